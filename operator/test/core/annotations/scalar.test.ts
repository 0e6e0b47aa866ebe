import fc from 'fast-check';
import {
  MAX_POOL_IP_NUMBER,
  parsePoolIPNumberAnnotation,
  parseReclaimAnnotation,
} from '../../../src/core/annotations/index.js';

describe('ipam.spidernet.io/ippool-ip-number', () => {
  it('"N" is a fixed size, "+N" a flexible one', () => {
    expect(parsePoolIPNumberAnnotation('2')).toEqual({ ok: true, value: { kind: 'fixed', count: 2 } });
    expect(parsePoolIPNumberAnnotation('+1')).toEqual({ ok: true, value: { kind: 'flexible', extra: 1 } });
    expect(parsePoolIPNumberAnnotation('0')).toEqual({ ok: true, value: { kind: 'fixed', count: 0 } });
    expect(parsePoolIPNumberAnnotation('+0')).toEqual({ ok: true, value: { kind: 'flexible', extra: 0 } });
    expect(parsePoolIPNumberAnnotation('007')).toEqual({ ok: true, value: { kind: 'fixed', count: 7 } });
    expect(parsePoolIPNumberAnnotation(String(MAX_POOL_IP_NUMBER))).toEqual({ ok: true, value: { kind: 'fixed', count: MAX_POOL_IP_NUMBER } });
  });

  it('gives the exact message from the brief', () => {
    const r = parsePoolIPNumberAnnotation('abc');
    expect(!r.ok && r.error.message).toBe(
      `annotation ipam.spidernet.io/ippool-ip-number="abc" is invalid: expected a non-negative integer "N" or "+N" with N ≤ ${MAX_POOL_IP_NUMBER} (e.g. "2" or "+1")`,
    );
  });

  it.each(['', 'abc', '-1', '+-1', '++1', '1+', '1.5', ' 2', '2 ', '1e3', '0x10', '+', '٣'])('rejects %j', (raw) => {
    const r = parsePoolIPNumberAnnotation(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.annotation).toBe('ipam.spidernet.io/ippool-ip-number');
  });

  it('rejects numbers above the bound with the reason', () => {
    const r = parsePoolIPNumberAnnotation(`+${MAX_POOL_IP_NUMBER + 1}`);
    expect(!r.ok && r.error.reason).toBe(`${MAX_POOL_IP_NUMBER + 1} exceeds the maximum ${MAX_POOL_IP_NUMBER}`);
    expect(parsePoolIPNumberAnnotation('99999999999999999999999').ok).toBe(false);
  });

  it('property: every in-range N and +N round-trips', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_POOL_IP_NUMBER }), fc.boolean(), (n, plus) => {
        const r = parsePoolIPNumberAnnotation(`${plus ? '+' : ''}${n}`);
        expect(r).toEqual({ ok: true, value: plus ? { kind: 'flexible', extra: n } : { kind: 'fixed', count: n } });
      }),
    );
  });
});

describe('ipam.spidernet.io/ippool-reclaim', () => {
  it('defaults to true when absent', () => {
    expect(parseReclaimAnnotation(undefined)).toEqual({ ok: true, value: true });
  });
  it.each(['true', 'True', 'TRUE', 't', 'T', '1'])('%s → true (Go strconv.ParseBool)', (raw) => {
    expect(parseReclaimAnnotation(raw)).toEqual({ ok: true, value: true });
  });
  it.each(['false', 'False', 'FALSE', 'f', 'F', '0'])('%s → false', (raw) => {
    expect(parseReclaimAnnotation(raw)).toEqual({ ok: true, value: false });
  });
  it.each(['yes', '', 'tRUE', ' true', '2'])('rejects %j', (raw) => {
    const r = parseReclaimAnnotation(raw);
    expect(!r.ok && r.error.message).toBe(
      `annotation ipam.spidernet.io/ippool-reclaim=${JSON.stringify(raw)} is invalid: expected "true" or "false" (e.g. "false" to keep the pool after the workload is deleted)`,
    );
  });
});
