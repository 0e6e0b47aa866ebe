// What a pod namespace actually holds, read with `ip -j` (the kernel's view, not the CNI result's):
// the global addresses on eth0 and the main table's routes per family, reduced to the fields the
// pool and the annotations decide (destination, gateway, device, whether the kernel added it).
import { ipn } from './netns.js';

export interface SeenRoute {
  dst: string;
  gateway?: string;
  dev: string;
  /** 'kernel' for the connected-subnet routes the kernel adds with an address. */
  protocol: string;
}

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  type?: string;
}

interface IpAddr {
  ifname: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number; scope: string }>;
}

export async function globalAddrs(ns: string, dev = 'eth0'): Promise<string[]> {
  const links = JSON.parse(await ipn(ns, '-j', 'addr', 'show', 'dev', dev)) as IpAddr[];
  return links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`));
}

/** Main-table unicast routes of one family, sorted by destination. */
export async function routes(ns: string, family: 4 | 6): Promise<SeenRoute[]> {
  const raw = JSON.parse(await ipn(ns, '-j', `-${family}`, 'route', 'show', 'table', 'main')) as IpRoute[];
  return raw
    .filter((r) => (r.type ?? 'unicast') === 'unicast')
    .map((r) => ({ dst: r.dst, ...(r.gateway ? { gateway: r.gateway } : {}), dev: r.dev ?? '', protocol: r.protocol ?? 'boot' }))
    .sort((a, b) => a.dst.localeCompare(b.dst));
}
