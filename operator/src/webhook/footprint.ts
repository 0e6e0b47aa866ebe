// What address space a SpiderIPPool or SpiderSubnet occupies, and the admission rules over it that
// CEL cannot express because they compare one object with others (Spiderpool's IPPool/Subnet webhook
// semantics, pkg/ippoolmanager/ippool_validate.go and ippool_subnet_validate.go):
//  - two pools of one family with the same spec.subnet must not share an address of
//    (spec.ips minus spec.excludeIPs);
//  - two pools with different but overlapping spec.subnet CIDRs are refused outright;
//  - two SpiderSubnets must have disjoint spec.subnet CIDRs;
//  - a pool that belongs to a SpiderSubnet uses only addresses of that subnet (its ips minus excludeIPs);
//  - an update must not take away an address that is allocated.
// Pure: no Kubernetes client, so the rules are unit-tested on their own.
import type { IPVersion, SpiderIPPoolSpec, SpiderSubnetSpec } from '../api/v2beta1/types.js';
import { type IPRange, IPSet, cidrRange, formatCIDR, formatRange, parseCIDR, parseIPEntry } from '../core/ip/index.js';

export type HolderKind = 'SpiderIPPool' | 'SpiderSubnet';

/** The address space one object occupies. */
export interface Footprint {
  kind: HolderKind;
  name: string;
  family: IPVersion;
  /** Canonical spec.subnet, e.g. "10.0.0.0/24". */
  subnet: string;
  /** spec.subnet as a range. */
  cidr: IPRange;
  /** spec.ips minus spec.excludeIPs. */
  addresses: IPSet;
}

/** A rejection: the field path and why, in the words a user needs to fix it. */
export interface FieldError {
  field: string;
  message: string;
}

export const fieldMessage = (e: FieldError): string => `${e.field}: ${e.message}`;

type Spec = Pick<SpiderIPPoolSpec, 'subnet' | 'ips' | 'excludeIPs' | 'ipVersion'> | SpiderSubnetSpec;

/** The footprint of a spec, or the field that does not parse (CEL normally stops those first). */
export function footprintOf(kind: HolderKind, name: string, spec: Spec): Footprint | FieldError {
  let cidr;
  try {
    cidr = parseCIDR(spec.subnet ?? '');
  } catch (e) {
    return { field: 'spec.subnet', message: (e as Error).message };
  }
  const family = cidr.family;
  if (spec.ipVersion !== undefined && spec.ipVersion !== family) {
    return { field: 'spec.ipVersion', message: `is ${spec.ipVersion} but spec.subnet ${formatCIDR(cidr)} is IPv${family}` };
  }
  const parse = (field: 'ips' | 'excludeIPs'): IPSet | FieldError => {
    try {
      return IPSet.parse(family, spec[field] ?? [], `spec.${field}`);
    } catch (e) {
      return { field: `spec.${field}`, message: (e as Error).message };
    }
  };
  const ips = parse('ips');
  if (!(ips instanceof IPSet)) return ips;
  const excluded = parse('excludeIPs');
  if (!(excluded instanceof IPSet)) return excluded;
  return { kind, name, family, subnet: formatCIDR(cidr), cidr: cidrRange(cidr), addresses: ips.subtract(excluded) };
}

const rangesOverlap = (a: IPRange, b: IPRange): boolean => a.start <= b.end && b.start <= a.end;

const describe = (f: IPVersion, s: IPSet, max = 4): string => {
  const shown = s.ranges.slice(0, max).map((r) => formatRange(f, r));
  return shown.join(', ') + (s.ranges.length > max ? ` and ${s.ranges.length - max} more range(s)` : '');
};

/** Index of the first spec.ips entry that shares an address with `other` (for the field path). */
function firstEntryTouching(family: IPVersion, entries: readonly string[], other: IPSet): number {
  for (let i = 0; i < entries.length; i++) {
    try {
      const r = parseIPEntry(entries[i]!, { family }).range;
      if (!IPSet.fromRanges(family, [r]).intersect(other).isEmpty) return i;
    } catch {
      // unparsable entries were reported by footprintOf already
    }
  }
  return -1;
}

/**
 * Why a pool may not take this footprint, given every other pool (same name excluded by the caller
 * or here). Empty when it may.
 */
export function poolConflicts(pool: Footprint, ips: readonly string[], others: readonly Footprint[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const o of others) {
    if (o.kind !== 'SpiderIPPool' || o.name === pool.name || o.family !== pool.family) continue;
    if (o.subnet === pool.subnet) {
      const shared = pool.addresses.intersect(o.addresses);
      if (shared.isEmpty) continue;
      const i = firstEntryTouching(pool.family, ips, shared);
      errors.push({
        field: i >= 0 ? `spec.ips[${i}]` : 'spec.ips',
        message: `${describe(pool.family, shared)} already belong(s) to SpiderIPPool ${o.name}; pools of one subnet must not share addresses (spec.ips minus spec.excludeIPs)`,
      });
    } else if (rangesOverlap(pool.cidr, o.cidr)) {
      errors.push({
        field: 'spec.subnet',
        message: `${pool.subnet} overlaps SpiderIPPool ${o.name} whose spec.subnet is ${o.subnet}; pools must use the same subnet or disjoint ones`,
      });
    }
  }
  return errors;
}

/** Why a SpiderSubnet may not take this footprint: another subnet's CIDR overlaps it. */
export function subnetConflicts(subnet: Footprint, others: readonly Footprint[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const o of others) {
    if (o.kind !== 'SpiderSubnet' || o.name === subnet.name || o.family !== subnet.family) continue;
    if (rangesOverlap(subnet.cidr, o.cidr)) {
      errors.push({ field: 'spec.subnet', message: `${subnet.subnet} overlaps SpiderSubnet ${o.name} whose spec.subnet is ${o.subnet}; subnets must be disjoint` });
    }
  }
  return errors;
}

/** Addresses of the pool outside its SpiderSubnet's usable addresses (spec.ips minus excludeIPs). */
export function outsideSubnet(pool: Footprint, ips: readonly string[], subnet: Footprint): FieldError[] {
  if (pool.family !== subnet.family) {
    return [{ field: 'spec.subnet', message: `is IPv${pool.family} but its SpiderSubnet ${subnet.name} is IPv${subnet.family}` }];
  }
  const outside = pool.addresses.subtract(subnet.addresses);
  if (outside.isEmpty) return [];
  const i = firstEntryTouching(pool.family, ips, outside);
  return [
    {
      field: i >= 0 ? `spec.ips[${i}]` : 'spec.ips',
      message: `${describe(pool.family, outside)} not in SpiderSubnet ${subnet.name} (its spec.ips minus spec.excludeIPs); take addresses the subnet offers or widen the subnet first`,
    },
  ];
}

/** One recorded allocation, as the IPAMBlocks hold it. */
export interface HeldAddress {
  ip: string;
  /** `namespace/name` of the pod holding it. */
  pod: string;
}

/**
 * Allocated addresses an update takes out of the pool (removed from spec.ips, or added to
 * spec.excludeIPs). Each error names the entry of the spec that drops the address.
 */
export function removedAllocated(
  family: IPVersion,
  before: Pick<SpiderIPPoolSpec, 'ips' | 'excludeIPs'>,
  after: Footprint,
  afterSpec: Pick<SpiderIPPoolSpec, 'ips' | 'excludeIPs'>,
  held: readonly HeldAddress[],
): FieldError[] {
  const errors: FieldError[] = [];
  const keptIPs = IPSet.parse(family, afterSpec.ips ?? []);
  for (const h of held) {
    if (after.addresses.hasIP(h.ip)) continue;
    let field: string;
    if (keptIPs.hasIP(h.ip)) {
      const j = (afterSpec.excludeIPs ?? []).findIndex((e) => entryHas(family, e, h.ip));
      field = j >= 0 ? `spec.excludeIPs[${j}]` : 'spec.excludeIPs';
    } else {
      const i = (before.ips ?? []).findIndex((e) => entryHas(family, e, h.ip));
      field = i >= 0 ? `spec.ips[${i}]` : 'spec.ips';
      if (i >= 0) field += ` (was ${JSON.stringify(before.ips![i])})`;
    }
    errors.push({ field, message: `${h.ip} is allocated to pod ${h.pod}; release it first` });
  }
  return errors;
}

function entryHas(family: IPVersion, entry: string, ip: string): boolean {
  try {
    return IPSet.fromRanges(family, [parseIPEntry(entry, { family }).range]).hasIP(ip);
  } catch {
    return false;
  }
}

/** Compact, stable text form of a footprint's addresses (for the range registry). */
export const footprintRanges = (f: Footprint): string[] => f.addresses.ranges.map((r) => formatRange(f.family, r));

/** A footprint back from its registry form. */
export function footprintFromRanges(kind: HolderKind, name: string, subnet: string, ranges: readonly string[]): Footprint | FieldError {
  return footprintOf(kind, name, { subnet, ips: [...ranges] });
}
