import { parsePodIPPoolAnnotation, parsePodIPPoolsAnnotation } from '../../../src/core/annotations/index.js';

describe('ipam.spidernet.io/ippool', () => {
  it('reads ipv4/ipv6 lists and the optional interface', () => {
    expect(parsePodIPPoolAnnotation('{"ipv4":["a","b"],"ipv6":["c"]}')).toEqual({ ok: true, value: { ipv4: ['a', 'b'], ipv6: ['c'] } });
    expect(parsePodIPPoolAnnotation('{"interface":"eth0","ipv4":["a"]}')).toEqual({
      ok: true,
      value: { interface: 'eth0', ipv4: ['a'], ipv6: [] },
    });
  });

  it('accepts one family only, and null as absent (Go json semantics)', () => {
    expect(parsePodIPPoolAnnotation('{"ipv6":["c"],"ipv4":null}')).toEqual({ ok: true, value: { ipv4: [], ipv6: ['c'] } });
  });

  it('matches field names case-insensitively and ignores unknown fields, as Go does', () => {
    expect(parsePodIPPoolAnnotation('{"IPv4":["a"],"extra":1}')).toEqual({ ok: true, value: { ipv4: ['a'], ipv6: [] } });
  });

  it.each([
    ['not json', 'not valid JSON'],
    ['["a"]', 'the value is not a JSON object'],
    ['null', 'the value is not a JSON object'],
    ['{"ipv4":"a"}', '"ipv4" must be a list of names'],
    ['{"ipv4":[1]}', '"ipv4" must contain only strings'],
    ['{"ipv4":[""]}', '"ipv4" contains an empty name'],
    ['{"ipv4":["a","a"]}', '"ipv4" lists "a" twice'],
    ['{"ipv6":[" "]}', '"ipv6" contains an empty name'],
    ['{"interface":3,"ipv4":["a"]}', '"interface" must be a string'],
    ['{"interface":"","ipv4":["a"]}', '"interface" is empty'],
    ['{}', 'no pool is named'],
    ['{"ipv4":[],"ipv6":[]}', 'no pool is named'],
  ])('rejects %s with %s', (raw, reason) => {
    const r = parsePodIPPoolAnnotation(raw);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.annotation).toBe('ipam.spidernet.io/ippool');
    expect(r.error.value).toBe(raw);
    expect(r.error.reason).toContain(reason);
    expect(r.error.message).toContain(`annotation ipam.spidernet.io/ippool=${JSON.stringify(raw)} is invalid: `);
    expect(r.error.message).toContain('expected a JSON object');
    expect(r.error.message).toContain('(e.g. {"ipv4":["v4-pool"],"ipv6":["v6-pool"]})');
  });

  it('names legacy keys it ignored when no pool is left (Spiderpool < 0.4 used ipv4pools)', () => {
    const r = parsePodIPPoolAnnotation('{"interface":"eth0","ipv4pools":["a"]}');
    expect(!r.ok && r.error.reason).toBe('no pool is named (ignored unknown field "ipv4pools")');
  });
});

describe('ipam.spidernet.io/ippools', () => {
  it('reads one item per interface with cleangateway', () => {
    const r = parsePodIPPoolsAnnotation(
      '[{"interface":"eth0","ipv4":["a"],"ipv6":["b"],"cleangateway":true},{"interface":"net1","ipv4":["c"]}]',
    );
    expect(r).toEqual({
      ok: true,
      value: [
        { interface: 'eth0', ipv4: ['a'], ipv6: ['b'], cleanGateway: true },
        { interface: 'net1', ipv4: ['c'], ipv6: [], cleanGateway: false },
      ],
    });
  });

  it.each([
    ['{}', 'the value is not a JSON array'],
    ['[', 'not valid JSON'],
    ['[]', 'the array is empty'],
    ['[1]', 'item 0: not a JSON object'],
    ['[{"ipv4":["a"]}]', 'item 0: "interface" is required'],
    ['[{"interface":"","ipv4":["a"]}]', 'item 0: "interface" is required'],
    ['[{"interface":"eth0","ipv4":["a"]},{"interface":"eth0","ipv4":["b"]}]', 'item 1: duplicate interface "eth0"'],
    ['[{"interface":"eth0"}]', 'item 0: no pool is named for interface "eth0"'],
    ['[{"interface":"eth0","ipv4":["a"],"cleangateway":"yes"}]', 'item 0: "cleangateway" must be true or false'],
    ['[{"interface":"eth0","ipv6":"b"}]', 'item 0: "ipv6" must be a list of names'],
    ['[{"interface":"eth0","ipv4":["a","a"]}]', 'item 0: "ipv4" lists "a" twice'],
  ])('rejects %s with %s', (raw, reason) => {
    const r = parsePodIPPoolsAnnotation(raw);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.annotation).toBe('ipam.spidernet.io/ippools');
    expect(r.error.reason).toContain(reason);
    expect(r.error.message).toContain('expected a non-empty JSON array of {"interface": name');
    expect(r.error.message).toContain('(e.g. [{"interface":"eth0","ipv4":["v4-a"]}');
  });

  it('truncates a long offending value in the message', () => {
    const raw = JSON.stringify([{ interface: 'eth0', ipv4: Array.from({ length: 50 }, (_, i) => `pool-${i}`) }, { interface: 'eth0', ipv4: ['x'] }]);
    const r = parsePodIPPoolsAnnotation(raw);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.value.length).toBeLessThan(160);
    expect(r.error.value).toMatch(/…\(\d+ more chars\)$/);
    expect(r.error.value.startsWith(raw.slice(0, 120))).toBe(true);
  });
});
