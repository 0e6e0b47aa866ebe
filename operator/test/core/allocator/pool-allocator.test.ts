import {
  IPNotInPoolError,
  PoolAllocator,
  ResizeConflictError,
  allocatableSet,
} from '../../../src/core/allocator/index.js';
import { IPParseError, IPSet } from '../../../src/core/ip/index.js';

const pool = (ips: string[], opts = {}): PoolAllocator => new PoolAllocator(IPSet.parse(4, ips), opts);
const drain = (a: PoolAllocator): string[] => {
  const out: string[] = [];
  for (let ip = a.allocate(); ip !== undefined; ip = a.allocate()) out.push(ip);
  return out;
};

describe('PoolAllocator', () => {
  it('hands out ascending addresses across fragments, then reports exhaustion', () => {
    const a = pool(['10.0.0.1-10.0.0.2', '10.0.0.9', '10.0.0.5']);
    expect(a.totalCount).toBe(4n);
    expect(drain(a)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.5', '10.0.0.9']);
    expect(a.allocate()).toBeUndefined();
    expect(a.allocatedCount).toBe(4);
    expect(a.freeCount).toBe(0n);
  });

  it('an empty pool is always exhausted', () => {
    const a = new PoolAllocator(IPSet.empty(6));
    expect(a.allocate()).toBeUndefined();
    expect(a.totalCount).toBe(0n);
  });

  it('does not return a released address until every fresh and every older release is used', () => {
    const a = pool(['10.0.0.1-10.0.0.5']);
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    a.release('10.0.0.2');
    a.release('10.0.0.1');
    expect(a.allocate()).toBe('10.0.0.4'); // fresh first
    a.release('10.0.0.4');
    expect(a.allocate()).toBe('10.0.0.5');
    expect(a.allocate()).toBe('10.0.0.2'); // oldest release
    expect(a.allocate()).toBe('10.0.0.1');
    expect(a.allocate()).toBe('10.0.0.4');
    expect(a.allocate()).toBeUndefined();
  });

  it('claim of a queued address takes it out of the queue; a re-release goes to the back', () => {
    const a = pool(['10.0.0.1-10.0.0.4']);
    drain(a);
    a.release('10.0.0.1');
    a.release('10.0.0.2');
    a.release('10.0.0.3');
    expect(a.claim('10.0.0.1')).toBe(true);
    expect(a.claim('10.0.0.1')).toBe(false);
    a.release('10.0.0.1');
    expect(drain(a)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.1']);
  });

  it('the fresh cursor skips claimed addresses and addresses released after a claim', () => {
    const a = pool(['10.0.0.1-10.0.0.4']);
    expect(a.claim('10.0.0.2')).toBe(true);
    expect(a.claim('10.0.0.3')).toBe(true);
    a.release('10.0.0.3');
    expect(drain(a)).toEqual(['10.0.0.1', '10.0.0.4', '10.0.0.3']);
  });

  it('claim/release/isAllocated argument rules', () => {
    const a = pool(['10.0.0.1-10.0.0.4']);
    expect(() => a.claim('10.0.0.9')).toThrow(IPNotInPoolError);
    expect(() => a.claim('10.0.0.9')).toThrow('IP 10.0.0.9 is not allocatable in this pool');
    expect(() => a.claim('2001:db8::1')).toThrow(IPParseError);
    expect(() => a.release('garbage')).toThrow(IPParseError);
    expect(a.release('10.0.0.9')).toBe(false);
    expect(a.release('10.0.0.1')).toBe(false);
    expect(a.isAllocated('10.0.0.9')).toBe(false);
    a.claim('10.0.0.4');
    expect(a.isAllocated('10.0.0.4')).toBe(true);
    expect(a.release('10.0.0.4')).toBe(true);
    expect(a.release('10.0.0.4')).toBe(false);
    expect(a.isAllocated('10.0.0.4')).toBe(false);
  });

  it('is deterministic', () => {
    const run = (): (string | undefined)[] => {
      const a = pool(['10.0.0.0/28']);
      const out = [a.allocate(), a.allocate(), a.allocate()];
      a.release(out[1]!);
      a.claim('10.0.0.9');
      return [...out, a.allocate(), a.allocate(), ...a.allocated()];
    };
    expect(run()).toEqual(run());
  });

  it('rebuilds from records by claiming; the release history starts empty', () => {
    const a = pool(['10.0.0.1-10.0.0.4']);
    for (const ip of ['10.0.0.3', '10.0.0.1']) a.claim(ip);
    expect([...a.allocated()]).toEqual(['10.0.0.1', '10.0.0.3']);
    expect(drain(a)).toEqual(['10.0.0.2', '10.0.0.4']);
  });

  it('forgets the oldest releases past the quarantine cap and finds them again by rescanning', () => {
    const a = pool(['10.0.0.1-10.0.0.6'], { quarantineCap: 2 });
    drain(a);
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) a.release(ip);
    // Queue keeps the two newest (3, 4); 1 and 2 are forgotten but still free.
    expect(a.allocate()).toBe('10.0.0.3');
    expect(a.allocate()).toBe('10.0.0.4');
    expect(drain(a)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(a.allocatedCount).toBe(6);
  });
});

describe('PoolAllocator.resize', () => {
  it('keeps held addresses and the release order of addresses that stay', () => {
    const a = pool(['10.0.0.1-10.0.0.4']);
    drain(a);
    a.release('10.0.0.3');
    a.release('10.0.0.4');
    a.release('10.0.0.1');
    const b = a.resize(IPSet.parse(4, ['10.0.0.1-10.0.0.3', '10.0.0.10']));
    expect([...b.allocated()]).toEqual(['10.0.0.2']);
    expect(b.totalCount).toBe(4n);
    expect(drain(b)).toEqual(['10.0.0.10', '10.0.0.3', '10.0.0.1']);
    expect([...a.allocated()]).toEqual(['10.0.0.2']); // the old allocator is untouched
    expect(drain(a)).toEqual(['10.0.0.3', '10.0.0.4', '10.0.0.1']);
  });

  it('refuses to drop held addresses and lists them', () => {
    const a = pool(['10.0.0.1-10.0.0.4']);
    drain(a);
    a.release('10.0.0.1');
    const shrink = (): PoolAllocator => a.resize(IPSet.parse(4, ['10.0.0.1-10.0.0.2']));
    expect(shrink).toThrow(ResizeConflictError);
    expect(shrink).toThrow('cannot remove 2 allocated IP(s) from the pool: 10.0.0.3, 10.0.0.4');
    try {
      shrink();
    } catch (e) {
      expect((e as ResizeConflictError).ips).toEqual(['10.0.0.3', '10.0.0.4']);
    }
  });

  it('refuses another family', () => {
    expect(() => pool(['10.0.0.1']).resize(IPSet.empty(6))).toThrow('cannot resize an IPv4 pool to IPv6');
  });
});

describe('IPv6 /64 (sparse)', () => {
  const spec = { subnet: '2001:db8::/64', ips: ['2001:db8::/64'], gateway: '2001:db8::1' };

  it('counts 2^64 - 1 addresses and allocates without touching the rest', () => {
    const a = new PoolAllocator(allocatableSet(spec));
    expect(a.totalCount).toBe((1n << 64n) - 1n);
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual(['2001:db8::', '2001:db8::2', '2001:db8::3']);
    expect(a.freeCount).toBe((1n << 64n) - 4n);
  });

  it('claims and releases addresses at the far end', () => {
    const a = new PoolAllocator(allocatableSet(spec));
    expect(a.claim('2001:db8::ffff:ffff:ffff:ffff')).toBe(true);
    expect(a.claim('2001:DB8:0:0:FFFF:FFFF:FFFF:FFFF')).toBe(false);
    expect(a.isAllocated('2001:db8::ffff:ffff:ffff:ffff')).toBe(true);
    a.claim('2001:db8::8000:0:0:0');
    expect([...a.allocated()]).toEqual(['2001:db8:0:0:8000::', '2001:db8::ffff:ffff:ffff:ffff']);
    expect(a.release('2001:db8::ffff:ffff:ffff:ffff')).toBe(true);
    expect(a.allocatedCount).toBe(1);
    expect(() => a.claim('2001:db8:0:1::')).toThrow(IPNotInPoolError);
    expect(() => a.claim('2001:db8::1')).toThrow(IPNotInPoolError); // the gateway
  });

  it('does not reuse released addresses while never-used ones remain', () => {
    const a = new PoolAllocator(allocatableSet(spec));
    const first = a.allocate()!;
    a.release(first);
    for (let i = 0; i < 1000; i++) expect(a.allocate()).not.toBe(first);
  });
});
