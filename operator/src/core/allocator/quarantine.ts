/**
 * FIFO of released offsets, oldest first, so the address freed longest ago is reused first (a late CNI
 * DEL or a stale ARP entry for a just-freed address must not hit the next pod).
 *
 * Removing an arbitrary entry (an explicit claim of a queued offset) must be O(1), so deletion is lazy:
 * `live` maps each queued offset to the sequence number of its one valid entry; any entry whose
 * sequence does not match is dead and skipped. An offset released, claimed and released again thus
 * sits at the back only, as it should. Dead entries are compacted away once they outnumber live ones,
 * which keeps memory O(live) and every operation O(1) amortized.
 *
 * Live entries are capped: past `cap`, the oldest is forgotten. A pool of at most `cap` addresses never
 * reaches it; above (an IPv6 /64 whose never-used addresses outlast any churn) it bounds memory, and
 * the allocator finds forgotten offsets again by rescanning (see PoolAllocator.nextFree).
 */
import { DENSE_LIMIT } from './offset-set.js';

/** Offset → sequence number of its live entry. A Map satisfies it; dense pools use an array. */
interface SeqTable {
  readonly size: number;
  get(offset: bigint): number | undefined;
  set(offset: bigint, seq: number): unknown;
  delete(offset: bigint): boolean;
}

/**
 * 32 bits per address, not a float: this table is touched at a random offset on every release and
 * reuse, so its cache footprint shows in the bench. 0 means "not queued".
 */
class DenseSeqTable implements SeqTable {
  private readonly seqs: Uint32Array;
  size = 0;

  constructor(capacity: number) {
    this.seqs = new Uint32Array(capacity);
  }

  get(offset: bigint): number | undefined {
    const s = this.seqs[Number(offset)]!;
    return s === 0 ? undefined : s;
  }

  set(offset: bigint, seq: number): void {
    const i = Number(offset);
    if (this.seqs[i] === 0) this.size++;
    this.seqs[i] = seq;
  }

  delete(offset: bigint): boolean {
    const i = Number(offset);
    if (this.seqs[i] === 0) return false;
    this.seqs[i] = 0;
    this.size--;
    return true;
  }
}

/** Sequence numbers fit 32 bits; at the limit the live entries are renumbered from 1 (see renumber). */
const MAX_SEQ = 0xffff_ffff;

export class Quarantine {
  /** Ring buffer of entries: offsets[i] with its sequence number seqs[i]; capacity a power of two. */
  private offsets: bigint[] = new Array<bigint>(16).fill(0n);
  private seqs = new Uint32Array(16);
  private head = 0;
  private length = 0;
  private readonly live: SeqTable;
  private seq = 0;

  constructor(
    total: bigint,
    private readonly cap: number,
  ) {
    this.live = total <= BigInt(DENSE_LIMIT) ? new DenseSeqTable(Number(total)) : new Map<bigint, number>();
  }

  /** Offsets waiting, i.e. released and not reused or claimed since. */
  get size(): number {
    return this.live.size;
  }

  has(offset: bigint): boolean {
    return this.live.get(offset) !== undefined;
  }

  push(offset: bigint): void {
    if (this.length === this.seqs.length) this.rebuild(this.seqs.length * 2);
    if (this.seq === MAX_SEQ) this.renumber();
    this.seq++;
    this.live.set(offset, this.seq);
    const i = (this.head + this.length) & (this.seqs.length - 1);
    this.offsets[i] = offset;
    this.seqs[i] = this.seq;
    this.length++;
    if (this.live.size > this.cap) this.shift();
  }

  /** The offset was claimed explicitly: forget it without searching the queue. */
  remove(offset: bigint): void {
    // Dead entries outnumbering live ones: compacting costs O(length), paid for by the removals.
    if (this.live.delete(offset) && this.length - this.live.size > this.live.size + 32) {
      this.rebuild(this.seqs.length);
    }
  }

  /** Oldest live offset, removed; undefined when empty. */
  shift(): bigint | undefined {
    const mask = this.seqs.length - 1;
    while (this.length > 0) {
      const offset = this.offsets[this.head]!;
      const seq = this.seqs[this.head]!;
      this.head = (this.head + 1) & mask;
      this.length--;
      if (this.live.get(offset) === seq) {
        this.live.delete(offset);
        return offset;
      }
    }
    return undefined;
  }

  /** Live offsets, oldest first. */
  *entries(): Generator<bigint> {
    const mask = this.seqs.length - 1;
    for (let k = 0; k < this.length; k++) {
      const i = (this.head + k) & mask;
      if (this.live.get(this.offsets[i]!) === this.seqs[i]) yield this.offsets[i]!;
    }
  }

  /** Once per 2^32 releases: drop dead entries and restart numbering, so no two entries ever share one. */
  private renumber(): void {
    this.rebuild(this.seqs.length);
    for (let i = 0; i < this.length; i++) {
      this.seqs[i] = i + 1;
      this.live.set(this.offsets[i]!, i + 1);
    }
    this.seq = this.length;
  }

  /** Copies the live entries, in order, into fresh buffers of at least `capacity` slots. */
  private rebuild(capacity: number): void {
    let size = 16;
    while (size < capacity || size < this.live.size * 2) size *= 2;
    const offsets = new Array<bigint>(size).fill(0n);
    const seqs = new Uint32Array(size);
    const mask = this.seqs.length - 1;
    let n = 0;
    for (let k = 0; k < this.length; k++) {
      const i = (this.head + k) & mask;
      if (this.live.get(this.offsets[i]!) === this.seqs[i]) {
        offsets[n] = this.offsets[i]!;
        seqs[n++] = this.seqs[i]!;
      }
    }
    this.offsets = offsets;
    this.seqs = seqs;
    this.head = 0;
    this.length = n;
  }
}
