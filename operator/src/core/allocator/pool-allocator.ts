/**
 * The allocator of one pool: which of its addresses are held, and which free one goes out next.
 *
 * Work is over integer offsets into the pool's allocatable set (see OffsetIndex), never over address
 * objects, so allocate/claim/release cost O(1) amortized plus O(log ranges) for the offset mapping,
 * independent of pool size and fill level.
 *
 * Reuse policy. allocate() hands out, in order:
 *   1. never-used offsets, ascending (a "fresh" cursor that skips offsets claimed explicitly or
 *      released since);
 *   2. then released offsets, oldest release first (Quarantine).
 * So a released address comes back only after every never-used address and every address released
 * before it. Same sequence of calls, same answers: there is no randomness.
 *
 * The release history is memory only. After a restart the caller rebuilds the allocator by claim()ing
 * every durably recorded address; the fresh cursor then restarts at offset 0 skipping held ones, so an
 * address released just before the restart may be handed out early. Accepted: a restart is rare and
 * the window small, and persisting the queue would put a second write on the allocation path.
 */
import { type IPFamily, type IPSet, formatIP, parseIP } from '../ip/index.js';
import { IPNotInPoolError, ResizeConflictError } from './errors.js';
import { OffsetIndex } from './offset-index.js';
import { type OffsetSet, createOffsetSet } from './offset-set.js';
import { Quarantine } from './quarantine.js';

/** Exact FIFO reuse for every pool up to this size (a v4 /16); bounded memory above it. */
export const QUARANTINE_CAP = 65_536;

export interface AllocatorOptions {
  /** Most released addresses remembered in order; tests lower it to exercise forgetting. */
  readonly quarantineCap?: number;
}

export class PoolAllocator {
  readonly family: IPFamily;
  private readonly index: OffsetIndex;
  private readonly held: OffsetSet;
  private readonly quarantine: Quarantine;
  /** Every offset below this has been handed out, claimed or released at least once. */
  private fresh = 0n;

  constructor(
    readonly set: IPSet,
    private readonly options: AllocatorOptions = {},
  ) {
    this.family = set.family;
    this.index = new OffsetIndex(set);
    this.quarantine = new Quarantine(this.index.total, options.quarantineCap ?? QUARANTINE_CAP);
    this.held = createOffsetSet(this.index.total);
  }

  /** Next address by the reuse policy above, or undefined when every address is held. */
  allocate(): string | undefined {
    const offset = this.nextFree();
    if (offset === undefined) return undefined;
    this.held.add(offset);
    return formatIP(this.family, this.index.valueAt(offset));
  }

  /**
   * Holds a specific address (static IP, StatefulSet identity, rebuild from records). False when it was
   * already held. Throws IPNotInPoolError when the pool cannot hand it out, IPParseError on garbage.
   */
  claim(ip: string): boolean {
    const offset = this.offsetOf(ip);
    if (offset === undefined) throw new IPNotInPoolError(ip);
    if (!this.held.add(offset)) return false;
    this.quarantine.remove(offset);
    return true;
  }

  /** False when the address was not held (a repeated or late DEL is not an error). IPParseError on garbage. */
  release(ip: string): boolean {
    const offset = this.offsetOf(ip);
    if (offset === undefined || !this.held.delete(offset)) return false;
    this.quarantine.push(offset);
    return true;
  }

  isAllocated(ip: string): boolean {
    const offset = this.offsetOf(ip);
    return offset !== undefined && this.held.has(offset);
  }

  get allocatedCount(): number {
    return this.held.size;
  }

  /** bigint because an IPv6 /64 pool has 2^64 addresses. */
  get totalCount(): bigint {
    return this.index.total;
  }

  get freeCount(): bigint {
    return this.index.total - BigInt(this.held.size);
  }

  /** Held addresses, ascending. */
  *allocated(): Generator<string> {
    for (const offset of this.held.ascending()) yield formatIP(this.family, this.index.valueAt(offset));
  }

  /**
   * A new allocator over `set` with every held address still held and the quarantine order kept for
   * released addresses that remain in the pool. Throws ResizeConflictError listing held addresses the
   * new set lacks: those must be released first, never dropped. This allocator is left unchanged.
   */
  resize(set: IPSet): PoolAllocator {
    if (set.family !== this.family) throw new TypeError(`cannot resize an IPv${this.family} pool to IPv${set.family}`);
    const held = [...this.held.ascending()].map((o) => this.index.valueAt(o));
    const lost = held.filter((v) => !set.has(v));
    if (lost.length > 0) throw new ResizeConflictError(lost.map((v) => formatIP(this.family, v)));
    const next = new PoolAllocator(set, this.options);
    for (const v of held) next.held.add(next.index.offsetOf(v)!);
    for (const o of this.quarantine.entries()) {
      const moved = next.index.offsetOf(this.index.valueAt(o));
      if (moved !== undefined) next.quarantine.push(moved);
    }
    return next;
  }

  /** Undefined when the pool does not contain the address; IPParseError on garbage or the other family. */
  private offsetOf(ip: string): bigint | undefined {
    return this.index.offsetOf(parseIP(ip, { family: this.family }).value);
  }

  /**
   * Free offsets below the cursor are in the quarantine (they were used once) unless the quarantine
   * forgot them at its cap. So when both cursor and queue are spent but addresses are free, they are
   * forgotten ones, and one rescan from offset 0 finds them. Pools of at most QUARANTINE_CAP addresses
   * never get there; a /64 never exhausts its cursor.
   */
  private nextFree(): bigint | undefined {
    const total = this.index.total;
    while (this.fresh < total) {
      const offset = this.fresh++;
      if (!this.held.has(offset) && !this.quarantine.has(offset)) return offset;
    }
    const queued = this.quarantine.shift();
    if (queued !== undefined || BigInt(this.held.size) === total) return queued;
    this.fresh = 0n;
    return this.nextFree();
  }
}
