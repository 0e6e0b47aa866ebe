import fc from 'fast-check';
import { IPParseError, IPSet, type IPRange } from '../../../src/core/ip/index.js';

const r = (start: number, end: number): IPRange => ({ start: BigInt(start), end: BigInt(end) });
const set = (...ranges: [number, number][]): IPSet => IPSet.fromRanges(4, ranges.map(([a, b]) => r(a, b)));
const plain = (s: IPSet): [number, number][] => s.ranges.map((x) => [Number(x.start), Number(x.end)]);

describe('IPSet', () => {
  it('normalizes: sorts, merges overlapping and adjacent ranges', () => {
    expect(plain(set([10, 20], [0, 3], [4, 5], [15, 30], [40, 40]))).toEqual([[0, 5], [10, 30], [40, 40]]);
    expect(plain(set([5, 5], [5, 5]))).toEqual([[5, 5]]);
    expect(plain(set([0, 10], [2, 3]))).toEqual([[0, 10]]);
  });

  it('parses Spiderpool entries and reports the index in the field path', () => {
    const s = IPSet.parse(4, ['10.0.0.1-10.0.0.3', '10.0.0.8/30', '10.0.0.4'], 'spec.ips');
    expect(s.toStrings()).toEqual(['10.0.0.1-10.0.0.4', '10.0.0.8-10.0.0.11']);
    expect(s.count).toBe(8n);
    expect(() => IPSet.parse(4, ['10.0.0.1', 'bad'], 'spec.excludeIPs')).toThrow('in spec.excludeIPs[1]');
    expect(() => IPSet.parse(6, ['10.0.0.1'])).toThrow(IPParseError);
  });

  it('subtract edge cases', () => {
    expect(plain(set([0, 10]).subtract(set([0, 10])))).toEqual([]);
    expect(plain(set([0, 10]).subtract(set([0, 0])))).toEqual([[1, 10]]);
    expect(plain(set([0, 10]).subtract(set([10, 12])))).toEqual([[0, 9]]);
    expect(plain(set([0, 10]).subtract(set([3, 4], [6, 6])))).toEqual([[0, 2], [5, 5], [7, 10]]);
    expect(plain(set([0, 5], [10, 15]).subtract(set([4, 11])))).toEqual([[0, 3], [12, 15]]);
    expect(plain(set([0, 5], [10, 15]).subtract(set([20, 30])))).toEqual([[0, 5], [10, 15]]);
    expect(plain(set([5, 6]).subtract(set([0, 100])))).toEqual([]);
    expect(plain(set().subtract(set([0, 1])))).toEqual([]);
    expect(plain(set([0, 3]).subtract(set()))).toEqual([[0, 3]]);
  });

  it('intersect and union', () => {
    expect(plain(set([0, 5], [10, 15]).intersect(set([3, 12])))).toEqual([[3, 5], [10, 12]]);
    expect(plain(set([0, 5]).intersect(set([6, 9])))).toEqual([]);
    expect(plain(set([0, 5]).union(set([6, 9])))).toEqual([[0, 9]]);
  });

  it('has, hasIP, isWithin, values', () => {
    const s = IPSet.parse(4, ['10.0.0.1-10.0.0.2', '10.0.0.5']);
    expect(s.hasIP('10.0.0.2')).toBe(true);
    expect(s.hasIP('10.0.0.3')).toBe(false);
    expect(s.hasIP('2001:db8::1')).toBe(false);
    expect(s.hasIP('garbage')).toBe(false);
    expect([...s.ips()]).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.5']);
    expect(s.isWithin(r(0x0a000000, 0x0a0000ff))).toBe(true);
    expect(s.isWithin(r(0x0a000002, 0x0a0000ff))).toBe(false);
    expect(IPSet.empty(4).isWithin(r(0, 0))).toBe(true);
  });

  it('counts an IPv6 /64 exactly', () => {
    expect(IPSet.parse(6, ['2001:db8::/64']).count).toBe(1n << 64n);
  });

  it('refuses to mix families', () => {
    expect(() => IPSet.empty(4).union(IPSet.empty(6))).toThrow('cannot combine IPv4 and IPv6 sets');
  });
});

describe('IPSet properties (against a boolean array over 0..99)', () => {
  const U = 100;
  const arbRanges = fc.array(
    fc.tuple(fc.integer({ min: 0, max: U - 1 }), fc.integer({ min: 0, max: 12 })).map(([a, len]) => [a, Math.min(U - 1, a + len)] as [number, number]),
    { maxLength: 6 },
  );
  const bits = (ranges: [number, number][]): boolean[] => {
    const b = new Array<boolean>(U).fill(false);
    for (const [a, z] of ranges) for (let i = a; i <= z; i++) b[i] = true;
    return b;
  };
  const asBits = (s: IPSet): boolean[] => bits(plain(s));
  const normalized = (s: IPSet): boolean =>
    s.ranges.every((x, i) => x.start <= x.end && (i === 0 || s.ranges[i - 1]!.end + 1n < x.start));

  it('union, subtract, intersect, count, has agree with the model and stay normalized', () => {
    fc.assert(
      fc.property(arbRanges, arbRanges, (ra, rb) => {
        const a = set(...ra);
        const b = set(...rb);
        const [ba, bb] = [bits(ra), bits(rb)];
        const checks: [IPSet, (i: number) => boolean][] = [
          [a, (i) => ba[i]!],
          [a.union(b), (i) => ba[i]! || bb[i]!],
          [a.subtract(b), (i) => ba[i]! && !bb[i]!],
          [a.intersect(b), (i) => ba[i]! && bb[i]!],
        ];
        for (const [s, want] of checks) {
          expect(normalized(s)).toBe(true);
          const expected = Array.from({ length: U }, (_, i) => want(i));
          expect(asBits(s)).toEqual(expected);
          expect(s.count).toBe(BigInt(expected.filter(Boolean).length));
          expect(Array.from({ length: U }, (_, i) => s.has(BigInt(i)))).toEqual(expected);
        }
      }),
      { numRuns: 300, seed: 20261121 },
    );
  });
});
