// Carving auto pools out of a SpiderSubnet, as pure set arithmetic over IP ranges (never per
// address, so a /16 subnet costs as little as a /28):
//   carvable = subnet.ips − subnet.excludeIPs − SpiderReservedIPs − subnet.gateway
//   free     = carvable − every range the ledger (status.controlledIPPools) already gives a pool
// Growing takes the lowest free addresses; shrinking gives back only addresses nobody holds,
// highest first, so a pool keeps a compact low range.

import type { IPVersion, PoolIPPreAllocations, SpiderSubnetSpec } from '../../api/v2beta1/types.js';
import { allocatableSet } from '../allocator/allocatable-set.js';
import { IPSet, type IPRange } from '../ip/index.js';

export function subnetFamily(spec: Pick<SpiderSubnetSpec, 'ipVersion' | 'subnet'>): IPVersion {
  return spec.ipVersion ?? (spec.subnet.includes(':') ? 6 : 4);
}

/** What the subnet can ever give its pools. Throws IPParseError naming the bad spec field. */
export function carvableSet(spec: SpiderSubnetSpec, reserved: readonly string[]): IPSet {
  return allocatableSet({
    subnet: spec.subnet,
    ips: spec.ips ?? [],
    excludeIPs: spec.excludeIPs,
    reserved,
    gateway: spec.gateway,
    family: spec.ipVersion,
  });
}

/** Every address the ledger gives to a pool, optionally leaving one pool out. */
export function carvedSet(family: IPVersion, ledger: PoolIPPreAllocations, except?: string): IPSet {
  const ranges: string[] = [];
  for (const [pool, entry] of Object.entries(ledger)) if (pool !== except) ranges.push(...entry.ips);
  return IPSet.parse(family, ranges, 'status.controlledIPPools');
}

/** Addresses a pool could still be given. */
export function freeSet(spec: SpiderSubnetSpec, reserved: readonly string[], ledger: PoolIPPreAllocations): IPSet {
  const carvable = carvableSet(spec, reserved);
  return carvable.subtract(carvedSet(carvable.family, ledger));
}

/** The lowest `n` addresses of the set (fewer if it has fewer). */
export function takeLowest(set: IPSet, n: number): IPSet {
  const out: IPRange[] = [];
  let left = BigInt(Math.max(0, n));
  for (const r of set.ranges) {
    if (left === 0n) break;
    const size = r.end - r.start + 1n;
    const take = size < left ? size : left;
    out.push({ start: r.start, end: r.start + take - 1n });
    left -= take;
  }
  return IPSet.fromRanges(set.family, out);
}

/** The highest `n` addresses of `candidates` (fewer if it has fewer). */
export function takeHighest(candidates: IPSet, n: number): IPSet {
  const out: IPRange[] = [];
  let left = BigInt(Math.max(0, n));
  for (let i = candidates.ranges.length - 1; i >= 0 && left > 0n; i--) {
    const r = candidates.ranges[i]!;
    const size = r.end - r.start + 1n;
    const take = size < left ? size : left;
    out.push({ start: r.end - take + 1n, end: r.end });
    left -= take;
  }
  return IPSet.fromRanges(candidates.family, out);
}

export type ResizePlan =
  | { kind: 'keep' }
  | { kind: 'grow'; add: IPSet; next: IPSet }
  | { kind: 'shrink'; remove: IPSet; next: IPSet }
  | { kind: 'insufficient'; want: number; free: bigint; message: string };

/**
 * How a pool of `current` addresses reaches `size`. Growing is all-or-nothing (a half-grown pool
 * would hide the shortage until pods fail). Shrinking only gives back addresses not in `held`; when
 * fewer are free the pool shrinks as far as it can and the next pass (after pods go) does the rest.
 */
export function planResize(input: { current: IPSet; size: number; free: IPSet; held: IPSet; subnetName: string; poolName: string }): ResizePlan {
  const have = input.current.count;
  const want = BigInt(input.size);
  if (have === want) return { kind: 'keep' };
  if (have < want) {
    const need = want - have;
    if (input.free.count < need) {
      return {
        kind: 'insufficient',
        want: input.size,
        free: input.free.count,
        message: `SpiderSubnet ${input.subnetName} has ${input.free.count} free addresses, pool ${input.poolName} needs ${need} more (size ${input.size}): add addresses to the subnet's spec.ips or lower ipam.spidernet.io/ippool-ip-number`,
      };
    }
    const add = takeLowest(input.free, Number(need));
    return { kind: 'grow', add, next: input.current.union(add) };
  }
  const remove = takeHighest(input.current.subtract(input.held), Number(have - want));
  if (remove.isEmpty) return { kind: 'keep' };
  return { kind: 'shrink', remove, next: input.current.subtract(remove) };
}

export interface SubnetCounts {
  totalIPCount: number;
  allocatedIPCount: number;
  freeIPCount: number;
}

/** Spiderpool's SubnetStatus counts: total = carvable addresses, allocated = addresses carved into pools. */
export function subnetCounts(carvable: IPSet, ledger: PoolIPPreAllocations): SubnetCounts {
  const carved = carvedSet(carvable.family, ledger).intersect(carvable).count;
  const total = carvable.count;
  const clamp = (v: bigint) => (v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v));
  return { totalIPCount: clamp(total), allocatedIPCount: clamp(carved), freeIPCount: clamp(total - carved) };
}
