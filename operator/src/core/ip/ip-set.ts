/**
 * A set of addresses of one family as a sorted list of disjoint, non-adjacent inclusive ranges. Pools
 * are described by a handful of ranges however many addresses they hold, so every operation here is
 * linear in the number of ranges, never in the number of addresses.
 */
import { type IPFamily, formatIP, parseIP } from './address.js';
import { IPParseError } from './errors.js';
import { type IPRange, formatRange, parseIPEntry } from './range.js';

export class IPSet {
  private constructor(
    readonly family: IPFamily,
    /** Sorted by start; disjoint; adjacent ranges already merged. */
    readonly ranges: readonly IPRange[],
  ) {}

  static empty(family: IPFamily): IPSet {
    return new IPSet(family, []);
  }

  /** Any ranges, in any order, overlapping or not. */
  static fromRanges(family: IPFamily, ranges: Iterable<IPRange>): IPSet {
    const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const merged: IPRange[] = [];
    for (const r of sorted) {
      const last = merged[merged.length - 1];
      if (last !== undefined && r.start <= last.end + 1n) {
        if (r.end > last.end) merged[merged.length - 1] = { start: last.start, end: r.end };
      } else {
        merged.push(r);
      }
    }
    return new IPSet(family, merged);
  }

  /**
   * Spiderpool `ips`/`excludeIPs` entries (IP, `a-b`, CIDR). Errors name the entry as `field[i]`, the
   * way Kubernetes field paths do.
   */
  static parse(family: IPFamily, entries: readonly string[], field?: string): IPSet {
    const ranges = entries.map((e, i) => parseIPEntry(e, { family, field: field && `${field}[${i}]` }).range);
    return IPSet.fromRanges(family, ranges);
  }

  get count(): bigint {
    let n = 0n;
    for (const r of this.ranges) n += r.end - r.start + 1n;
    return n;
  }

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  has(value: bigint): boolean {
    const r = this.ranges[findRange(this.ranges, value)];
    return r !== undefined && value <= r.end;
  }

  /** Membership by text; false for garbage or the other family rather than throwing. */
  hasIP(text: string): boolean {
    try {
      return this.has(parseIP(text, { family: this.family }).value);
    } catch (e) {
      if (e instanceof IPParseError) return false;
      throw e;
    }
  }

  union(other: IPSet): IPSet {
    this.sameFamily(other);
    return IPSet.fromRanges(this.family, [...this.ranges, ...other.ranges]);
  }

  intersect(other: IPSet): IPSet {
    this.sameFamily(other);
    const out: IPRange[] = [];
    let i = 0;
    let j = 0;
    while (i < this.ranges.length && j < other.ranges.length) {
      const a = this.ranges[i]!;
      const b = other.ranges[j]!;
      const start = a.start > b.start ? a.start : b.start;
      const end = a.end < b.end ? a.end : b.end;
      if (start <= end) out.push({ start, end });
      if (a.end < b.end) i++;
      else j++;
    }
    return new IPSet(this.family, out);
  }

  subtract(other: IPSet): IPSet {
    this.sameFamily(other);
    const out: IPRange[] = [];
    let j = 0;
    for (const a of this.ranges) {
      let start = a.start;
      // Skip holes that end before this range; they cannot affect later ranges either.
      while (j < other.ranges.length && other.ranges[j]!.end < start) j++;
      let k = j;
      while (k < other.ranges.length && other.ranges[k]!.start <= a.end) {
        const hole = other.ranges[k]!;
        if (hole.start > start) out.push({ start, end: hole.start - 1n });
        start = hole.end + 1n;
        if (hole.end > a.end) break;
        k++;
      }
      if (start <= a.end) out.push({ start, end: a.end });
    }
    return new IPSet(this.family, out);
  }

  /** True when every address lies inside `outer` (e.g. a pool's subnet). */
  isWithin(outer: IPRange): boolean {
    const first = this.ranges[0];
    const last = this.ranges[this.ranges.length - 1];
    return first === undefined || (first.start >= outer.start && last!.end <= outer.end);
  }

  equals(other: IPSet): boolean {
    return (
      this.family === other.family &&
      this.ranges.length === other.ranges.length &&
      this.ranges.every((r, i) => r.start === other.ranges[i]!.start && r.end === other.ranges[i]!.end)
    );
  }

  /** Ascending. A /64 has 2^64 values: callers iterate lazily and stop early. */
  *values(): Generator<bigint> {
    for (const r of this.ranges) for (let v = r.start; v <= r.end; v++) yield v;
  }

  *ips(): Generator<string> {
    for (const v of this.values()) yield formatIP(this.family, v);
  }

  /** Compact Spiderpool-style text, e.g. ["10.0.0.1-10.0.0.9", "10.0.0.20"]. */
  toStrings(): string[] {
    return this.ranges.map((r) => formatRange(this.family, r));
  }

  private sameFamily(other: IPSet): void {
    if (other.family !== this.family) throw new TypeError(`cannot combine IPv${this.family} and IPv${other.family} sets`);
  }
}

/** Index of the last range whose start is <= value (-1 if none): O(log ranges). */
export function findRange(ranges: readonly IPRange[], value: bigint): number {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid]!.start <= value) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi;
}
