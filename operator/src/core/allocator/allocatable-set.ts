/**
 * What a pool may hand out: spec.ips − spec.excludeIPs − reserved IPs − spec.gateway, with the same
 * containment checks Spiderpool's webhook makes (ips, excludeIPs and gateway inside spec.subnet).
 */
import {
  type IPFamily,
  IPParseError,
  IPSet,
  cidrRange,
  formatCIDR,
  guessFamily,
  parseCIDR,
  parseIP,
  parseIPEntry,
} from '../ip/index.js';

export interface PoolSpecInput {
  /** Network CIDR, e.g. "10.6.0.0/16". Fixes the family. */
  readonly subnet: string;
  readonly ips: readonly string[];
  readonly excludeIPs?: readonly string[] | undefined;
  /**
   * Addresses from SpiderReservedIP objects. Entries of the other family are ignored, so callers may
   * pass every reserved IP in the cluster; garbage still throws.
   */
  readonly reserved?: readonly string[] | undefined;
  readonly gateway?: string | null | undefined;
  /** spec.ipVersion when set; the subnet must agree. */
  readonly family?: IPFamily | undefined;
}

export function allocatableSet(spec: PoolSpecInput): IPSet {
  const subnet = parseCIDR(spec.subnet, { family: spec.family, field: 'spec.subnet' });
  const { family } = subnet;
  const bounds = cidrRange(subnet);
  const outside = (kind: string, value: string, field: string): IPParseError =>
    new IPParseError(
      kind,
      value,
      `it is outside spec.subnet ${formatCIDR(subnet)}`,
      `addresses inside ${formatCIDR(subnet)}`,
      field,
    );

  const inSubnet = (entries: readonly string[], field: string): IPSet => {
    const ranges = entries.map((text, i) => {
      const { range } = parseIPEntry(text, { family, field: `${field}[${i}]` });
      if (range.start < bounds.start || range.end > bounds.end) throw outside(entryKind(family, text), text, `${field}[${i}]`);
      return range;
    });
    return IPSet.fromRanges(family, ranges);
  };

  let set = inSubnet(spec.ips, 'spec.ips').subtract(inSubnet(spec.excludeIPs ?? [], 'spec.excludeIPs'));

  const reserved = (spec.reserved ?? []).filter((text) => guessFamily(text) === family);
  set = set.subtract(IPSet.parse(family, reserved, 'reserved'));

  if (spec.gateway != null) {
    const gw = parseIP(spec.gateway, { family, field: 'spec.gateway' }).value;
    if (gw < bounds.start || gw > bounds.end) throw outside(`IPv${family} address`, spec.gateway, 'spec.gateway');
    set = set.subtract(IPSet.fromRanges(family, [{ start: gw, end: gw }]));
  }
  return set;
}

const entryKind = (family: IPFamily, text: string): string =>
  `IPv${family} ${text.includes('/') ? 'CIDR' : text.includes('-') ? 'range' : 'address'}`;
