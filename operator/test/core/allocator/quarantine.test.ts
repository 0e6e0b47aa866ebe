import { Quarantine } from '../../../src/core/allocator/quarantine.js';

const drain = (q: Quarantine): bigint[] => {
  const out: bigint[] = [];
  for (let o = q.shift(); o !== undefined; o = q.shift()) out.push(o);
  return out;
};

describe.each([
  ['dense', 1000n],
  ['sparse', 1n << 64n],
])('Quarantine (%s)', (_, total) => {
  it('is FIFO, skips removed entries and keeps only the newest entry of a re-queued offset', () => {
    const q = new Quarantine(total, 100);
    for (const o of [5n, 6n, 7n]) q.push(o);
    q.remove(5n);
    q.push(5n);
    expect(q.size).toBe(3);
    expect([...q.entries()]).toEqual([6n, 7n, 5n]);
    expect(drain(q)).toEqual([6n, 7n, 5n]);
    expect(q.has(5n)).toBe(false);
  });

  it('compacts dead entries and grows without losing order', () => {
    const q = new Quarantine(total, 1000);
    for (let i = 0n; i < 500n; i++) q.push(i);
    for (let i = 0n; i < 500n; i += 2n) q.remove(i);
    expect(drain(q)).toEqual(Array.from({ length: 250 }, (_, k) => BigInt(2 * k + 1)));
  });

  it('forgets the oldest entries past its cap', () => {
    const q = new Quarantine(total, 3);
    for (let i = 1n; i <= 5n; i++) q.push(i);
    expect(drain(q)).toEqual([3n, 4n, 5n]);
  });

  it('renumbers when sequence numbers reach 2^32 - 1', () => {
    const q = new Quarantine(total, 100);
    (q as unknown as { seq: number }).seq = 0xffff_fffd;
    for (const o of [1n, 2n, 3n]) q.push(o); // the third push renumbers
    q.remove(2n);
    q.push(2n);
    expect(drain(q)).toEqual([1n, 3n, 2n]);
  });
});
