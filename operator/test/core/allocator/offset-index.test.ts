import fc from 'fast-check';
import { OffsetIndex } from '../../../src/core/allocator/offset-index.js';
import { IPSet } from '../../../src/core/ip/index.js';

describe('OffsetIndex', () => {
  it('maps offsets to addresses across many fragments and back', () => {
    // 500 fragments of varying width with gaps in between.
    const ranges = Array.from({ length: 500 }, (_, i) => ({ start: BigInt(i * 100), end: BigInt(i * 100 + (i % 7)) }));
    const set = IPSet.fromRanges(4, ranges);
    const index = new OffsetIndex(set);
    const all = [...set.values()];
    expect(index.total).toBe(BigInt(all.length));
    all.forEach((v, k) => {
      expect(index.valueAt(BigInt(k))).toBe(v);
      expect(index.offsetOf(v)).toBe(BigInt(k));
    });
    expect(index.offsetOf(99n)).toBeUndefined();
    expect(index.offsetOf(-1n)).toBeUndefined();
    expect(index.offsetOf(500n * 100n)).toBeUndefined();
  });

  it('agrees with enumeration for random fragmented sets (IPv6 offsets past 2^64)', () => {
    const base = 0x20010db8n << 96n;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 1n << 70n }), fc.integer({ min: 0, max: 20 })), { minLength: 1, maxLength: 12 }),
        (pieces) => {
          const set = IPSet.fromRanges(6, pieces.map(([s, w]) => ({ start: base + s, end: base + s + BigInt(w) })));
          const index = new OffsetIndex(set);
          let k = 0n;
          for (const v of set.values()) {
            if (index.valueAt(k) !== v || index.offsetOf(v) !== k) return false;
            k++;
          }
          return k === index.total;
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });
});
