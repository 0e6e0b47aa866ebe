// The CNI result of ADD in the shape each spec version defines. An IPAM plugin creates no
// interfaces, so its result has no `interfaces` list and its ips carry no `interface` index (an
// index must point into that list; the main plugin, e.g. macvlan, sets it when it takes our ips).
// 0.3.x/0.4.0 ips carry `version` ("4"/"6"); 1.0.0 removed it (the address says the family).
import type { AllocateResponse } from '../../../operator/src/rpc/gen/spiderpool_ts/ipam/v1/ipam.js';
import { atLeast, type CniVersion } from './version.js';

export interface CniIP {
  version?: '4' | '6';
  address: string;
  gateway?: string;
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface CniDNS {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface CniResult {
  cniVersion: CniVersion;
  ips: CniIP[];
  routes?: CniRoute[];
  dns?: CniDNS;
}

export function formatResult(cniVersion: CniVersion, res: AllocateResponse): CniResult {
  const withVersion = !atLeast(cniVersion, '1.0.0');
  const ips = res.ips.map((ip): CniIP => {
    const out: CniIP = withVersion ? { version: ip.version === 6 ? '6' : '4', address: ip.address } : { address: ip.address };
    if (ip.gateway) out.gateway = ip.gateway;
    return out;
  });
  const result: CniResult = { cniVersion, ips };
  if (res.routes.length > 0) result.routes = res.routes.map((r) => (r.gw ? { dst: r.dst, gw: r.gw } : { dst: r.dst }));

  // Go's CNI types omit empty DNS fields; an all-empty dns is left out the same way.
  const dns: CniDNS = {};
  if (res.dns?.nameservers.length) dns.nameservers = res.dns.nameservers;
  if (res.dns?.domain) dns.domain = res.dns.domain;
  if (res.dns?.search.length) dns.search = res.dns.search;
  if (res.dns?.options.length) dns.options = res.dns.options;
  if (Object.keys(dns).length > 0) result.dns = dns;
  return result;
}

/** VERSION output. */
export function versionResult(cniVersion: string, supported: readonly string[]) {
  return { cniVersion, supportedVersions: [...supported] };
}
