/**
 * Random fragmented pools and random allocate/claim/release/resize sequences, checked step by step
 * against a reference model that knows nothing of offsets, bitmaps or queues: a set of held addresses,
 * the list of allocatable addresses, and when each free address was last released.
 */
import fc from 'fast-check';
import { IPNotInPoolError, PoolAllocator, ResizeConflictError, allocatableSet } from '../../../src/core/allocator/index.js';
import { type IPFamily, formatIP, parseIP } from '../../../src/core/ip/index.js';

type Kind = 'ip' | 'range' | 'cidr';
type Entry = readonly [Kind, number, number];

interface Spec {
  readonly ips: readonly Entry[];
  readonly excludeIPs: readonly Entry[];
  readonly reserved: readonly number[];
  readonly gateway: number | null;
}

type Op =
  | { readonly op: 'allocate' }
  | { readonly op: 'claim'; readonly at: number }
  | { readonly op: 'release'; readonly at: number }
  | { readonly op: 'resize'; readonly spec: Spec };

const entry = fc.tuple(fc.constantFrom<Kind>('ip', 'range', 'cidr'), fc.nat(63), fc.nat(63));
const spec: fc.Arbitrary<Spec> = fc.record({
  ips: fc.array(entry, { minLength: 1, maxLength: 4 }),
  excludeIPs: fc.array(entry, { maxLength: 3 }),
  reserved: fc.array(fc.integer({ min: -8, max: 71 }), { maxLength: 3 }),
  gateway: fc.option(fc.nat(63)),
});
const ops: fc.Arbitrary<Op[]> = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.constant({ op: 'allocate' } as const) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('claim' as const), at: fc.integer({ min: -2, max: 255 }) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('release' as const), at: fc.integer({ min: -2, max: 255 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('resize' as const), spec }) },
  ),
  { maxLength: 60, size: 'max' },
);

/** One pool's universe: a small subnet of `size` addresses starting at `base`. */
class Universe {
  constructor(
    readonly family: IPFamily,
    readonly base: bigint,
    readonly size: number,
  ) {}

  get subnet(): string {
    return `${formatIP(this.family, this.base)}/${(this.family === 4 ? 32 : 128) - Math.log2(this.size)}`;
  }

  ip(offset: number): string {
    return formatIP(this.family, this.base + BigInt(offset));
  }

  /** [first, last] offsets an entry covers, clamped into the subnet. */
  span([kind, a, b]: Entry): [number, number] {
    const [x, y] = [a % this.size, b % this.size];
    if (kind === 'ip') return [x, x];
    if (kind === 'range') return [Math.min(x, y), Math.max(x, y)];
    const width = 2 ** (b % (Math.log2(this.size) + 1));
    const start = x - (x % width);
    return [start, start + width - 1];
  }

  text(e: Entry): string {
    const [s, t] = this.span(e);
    if (e[0] === 'ip') return this.ip(s);
    if (e[0] === 'range') return `${this.ip(s)}-${this.ip(t)}`;
    return `${this.ip(s)}/${(this.family === 4 ? 32 : 128) - Math.log2(t - s + 1)}`;
  }

  strings(s: Spec) {
    return {
      subnet: this.subnet,
      ips: s.ips.map((e) => this.text(e)),
      excludeIPs: s.excludeIPs.map((e) => this.text(e)),
      reserved: s.reserved.map((o) => this.ip(o)),
      gateway: s.gateway === null ? null : this.ip(s.gateway % this.size),
    };
  }

  /** The allocatable offsets, by brute force over the entries. */
  allocatable(s: Spec): Set<number> {
    const inAny = (entries: readonly Entry[], o: number): boolean =>
      entries.some((e) => {
        const [a, b] = this.span(e);
        return a <= o && o <= b;
      });
    const out = new Set<number>();
    for (let o = 0; o < this.size; o++) {
      const gateway = s.gateway !== null && s.gateway % this.size === o;
      if (inAny(s.ips, o) && !inAny(s.excludeIPs, o) && !s.reserved.includes(o) && !gateway) out.add(o);
    }
    return out;
  }
}

class Model {
  readonly held = new Set<number>();
  /** Held at least once while in the pool; the rest are "never used". */
  readonly used = new Set<number>();
  /** Free addresses that were released: when. */
  readonly releasedAt = new Map<number, number>();
  private clock = 0;
  private taken: number[] = [];

  /** Ascending. */
  sorted: number[];

  constructor(public allocatable: Set<number>) {
    this.sorted = [...allocatable].sort((a, b) => a - b);
  }

  /** Smallest never-used free address, else the free address released longest ago. */
  next(): number | undefined {
    const fresh = this.sorted.find((o) => !this.held.has(o) && !this.used.has(o));
    if (fresh !== undefined) return fresh;
    let best: number | undefined;
    for (const [o, t] of this.releasedAt) if (best === undefined || t < this.releasedAt.get(best)!) best = o;
    return best;
  }

  /** Free addresses released longest ago: the front of the allocator's queue. */
  oldestReleased(n: number): number[] {
    return [...this.releasedAt].sort((x, y) => x[1] - y[1]).slice(0, n).map(([o]) => o);
  }

  /** Held addresses taken most recently. */
  newestTaken(n: number): number[] {
    return this.taken.filter((o) => this.held.has(o)).slice(-n);
  }

  take(o: number): void {
    this.taken = [...this.taken.filter((x) => x !== o), o];
    this.held.add(o);
    this.used.add(o);
    this.releasedAt.delete(o);
  }

  release(o: number): void {
    this.held.delete(o);
    this.releasedAt.set(o, this.clock++);
  }

  /** Addresses that leave the pool lose their history: coming back, they are new. */
  resize(allocatable: Set<number>): void {
    this.allocatable = allocatable;
    this.sorted = [...allocatable].sort((a, b) => a - b);
    for (const o of [...this.used]) if (!allocatable.has(o)) this.used.delete(o);
    for (const o of [...this.releasedAt.keys()]) if (!allocatable.has(o)) this.releasedAt.delete(o);
  }
}

/** expect(actual).toEqual(expected), but only paying for jest's matcher when they differ. */
const same = (actual: unknown, expected: unknown): void => {
  const show = (x: unknown): string => JSON.stringify(x, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  if (show(actual) !== show(expected)) expect(actual).toEqual(expected);
};

/** The error `fn` throws (failing the test if it returns). */
const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
};

function check(u: Universe, initial: Spec, steps: Op[]): void {
  let a = new PoolAllocator(allocatableSet(u.strings(initial)));
  const model = new Model(u.allocatable(initial));
  let current = initial;
  const offsetOf = (ip: string): number => Number(parseIP(ip).value - u.base);

  /**
   * Steers operations at the interesting interleavings (claim a queued address, release it again,
   * allocate past it): at % 4 == 0 picks one of `likely`, == 2 any pool address, otherwise any address.
   */
  const target = (at: number, likely: number[]): number => {
    const pick = (xs: number[]): number | undefined => (xs.length > 0 ? xs[(at >> 2) % xs.length] : undefined);
    const chosen = at >= 0 && at % 4 === 0 ? pick(likely) : at >= 0 && at % 4 === 2 ? pick(model.sorted) : undefined;
    return chosen ?? ((at % u.size) + u.size) % u.size;
  };

  const invariants = (): void => {
    const held = [...a.allocated()];
    same(held, [...model.held].sort((x, y) => x - y).map((o) => u.ip(o)));
    same([a.allocatedCount, a.totalCount, a.freeCount], [
      model.held.size,
      BigInt(model.allocatable.size),
      BigInt(model.allocatable.size - model.held.size),
    ]);
    // Independently of the model's bookkeeping: never excluded, reserved, the gateway, or outside ips.
    const inSpan = (o: number) => (e: Entry): boolean => u.span(e)[0] <= o && o <= u.span(e)[1];
    const bad = [...model.held].filter(
      (o) =>
        !current.ips.some(inSpan(o)) ||
        current.excludeIPs.some(inSpan(o)) ||
        current.reserved.includes(o) ||
        (current.gateway !== null && current.gateway % u.size === o),
    );
    same(bad, []);
  };

  for (const step of steps) {
    if (step.op === 'allocate') {
      const want = model.next();
      const got = a.allocate();
      same(got === undefined, model.held.size === model.allocatable.size);
      same(got, want === undefined ? undefined : u.ip(want));
      if (got !== undefined) {
        const o = offsetOf(got);
        const t = model.releasedAt.get(o);
        if (t !== undefined) {
          // A released address comes back only when nothing never-used is free and nothing free was released earlier.
          same(model.sorted.some((x) => !model.held.has(x) && !model.used.has(x)), false);
          same([...model.releasedAt.values()].every((x) => x >= t), true);
        }
        model.take(o);
      }
    } else if (step.op === 'claim') {
      const o = target(step.at, model.oldestReleased(3));
      if (!model.allocatable.has(o)) {
        same(thrown(() => a.claim(u.ip(o))) instanceof IPNotInPoolError, true);
      } else {
        same(a.claim(u.ip(o)), !model.held.has(o));
        model.take(o);
      }
    } else if (step.op === 'release') {
      const o = target(step.at, model.newestTaken(3));
      const wasHeld = model.held.has(o);
      same(a.release(u.ip(o)), wasHeld);
      if (wasHeld) model.release(o);
    } else {
      const next = u.allocatable(step.spec);
      const lost = [...model.held].filter((o) => !next.has(o)).sort((x, y) => x - y);
      const set = allocatableSet(u.strings(step.spec));
      if (lost.length > 0) {
        const e = thrown(() => a.resize(set));
        same(e instanceof ResizeConflictError && e.ips, lost.map((o) => u.ip(o)));
      } else {
        a = a.resize(set);
        model.resize(next);
        current = step.spec;
      }
    }
    invariants();
  }
}

const universe = (family: IPFamily): fc.Arbitrary<Universe> =>
  fc.tuple(fc.constantFrom(4, 8, 8, 16, 16, 32, 64), family === 4 ? fc.integer({ min: 0, max: 0xffff }) : fc.bigInt({ min: 0n, max: (1n << 80n) - 1n }))
    .map(([size, hi]) =>
      family === 4
        ? new Universe(4, 0x0a000000n + BigInt(hi as number) * 256n, size)
        : new Universe(6, (0x20010db8n << 96n) | ((hi as bigint) << 16n), size),
    );

describe.each([4, 6] as const)('PoolAllocator against the reference model, IPv%i', (family) => {
  it('matches the model after every step', () => {
    fc.assert(
      fc.property(universe(family), spec, ops, (u, s, steps) => check(u, s, steps)),
      { numRuns: 300, seed: 0x5eed + family },
    );
  });
});
