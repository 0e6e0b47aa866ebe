/**
 * Which offsets of a pool are held. Two shapes behind one interface: a bitmap when the pool is small
 * enough that 1 bit per address is cheap (2^20 addresses = 128 KiB), a hash set of held offsets above
 * that, where memory must follow what is held rather than what could be (an IPv6 /64).
 */

/** Pools up to this many addresses get a bitmap. */
export const DENSE_LIMIT = 2 ** 20;

export interface OffsetSet {
  readonly size: number;
  has(offset: bigint): boolean;
  /** False when it was already present. */
  add(offset: bigint): boolean;
  /** False when it was absent. */
  delete(offset: bigint): boolean;
  ascending(): Iterable<bigint>;
}

export function createOffsetSet(total: bigint): OffsetSet {
  return total <= BigInt(DENSE_LIMIT) ? new DenseOffsetSet(Number(total)) : new SparseOffsetSet();
}

export class DenseOffsetSet implements OffsetSet {
  private readonly words: Uint32Array;
  size = 0;

  constructor(capacity: number) {
    this.words = new Uint32Array(Math.ceil(capacity / 32));
  }

  has(offset: bigint): boolean {
    const i = Number(offset);
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  add(offset: bigint): boolean {
    const i = Number(offset);
    const bit = 1 << (i & 31);
    const w = this.words[i >>> 5]!;
    if ((w & bit) !== 0) return false;
    this.words[i >>> 5] = w | bit;
    this.size++;
    return true;
  }

  delete(offset: bigint): boolean {
    const i = Number(offset);
    const bit = 1 << (i & 31);
    const w = this.words[i >>> 5]!;
    if ((w & bit) === 0) return false;
    this.words[i >>> 5] = w & ~bit;
    this.size--;
    return true;
  }

  *ascending(): Generator<bigint> {
    for (let wi = 0; wi < this.words.length; wi++) {
      const w = this.words[wi]!;
      if (w === 0) continue;
      for (let b = 0; b < 32; b++) if ((w & (1 << b)) !== 0) yield BigInt(wi * 32 + b);
    }
  }
}

export class SparseOffsetSet implements OffsetSet {
  private readonly set = new Set<bigint>();

  get size(): number {
    return this.set.size;
  }

  has(offset: bigint): boolean {
    return this.set.has(offset);
  }

  add(offset: bigint): boolean {
    if (this.set.has(offset)) return false;
    this.set.add(offset);
    return true;
  }

  delete(offset: bigint): boolean {
    return this.set.delete(offset);
  }

  /** Sorted on demand: snapshots are rare, allocate/release are not. */
  ascending(): bigint[] {
    return [...this.set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
