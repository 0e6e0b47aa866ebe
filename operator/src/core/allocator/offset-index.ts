/**
 * Maps between addresses and dense integer offsets 0..total-1 of a fragmented set: offset k is the
 * k-th address of the set in ascending order. Prefix sums over the ranges plus binary search make both
 * directions O(log ranges), whatever the pool size.
 */
import { type IPSet, findRange } from '../ip/index.js';

export class OffsetIndex {
  /** firstOffset[i] = number of addresses in ranges before range i. */
  private readonly firstOffset: bigint[] = [];
  readonly total: bigint;

  constructor(readonly set: IPSet) {
    let sum = 0n;
    for (const r of set.ranges) {
      this.firstOffset.push(sum);
      sum += r.end - r.start + 1n;
    }
    this.total = sum;
  }

  /** Offset of an address, or undefined when the set does not contain it. */
  offsetOf(value: bigint): bigint | undefined {
    const i = findRange(this.set.ranges, value);
    const r = this.set.ranges[i];
    if (r === undefined || value > r.end) return undefined;
    return this.firstOffset[i]! + (value - r.start);
  }

  /** Address at an offset; the caller guarantees 0 <= offset < total. */
  valueAt(offset: bigint): bigint {
    let lo = 0;
    let hi = this.firstOffset.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.firstOffset[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return this.set.ranges[lo]!.start + (offset - this.firstOffset[lo]!);
  }
}
