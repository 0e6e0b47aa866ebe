// Readers of a pod's state shared by the nodesim and e2e tests: Ready condition, first container id,
// and the IPv4 addresses configured in a pod's netns.
import type { V1Pod } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';

export const isReady = (p: V1Pod): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
export const containerId = (p: V1Pod): string => p.status?.containerStatuses?.[0]?.containerID ?? '';

/** IPv4 addresses configured on eth0 inside a netns, read with `ip -n <ns> -j addr` (as `a.b.c.d`, or `a.b.c.d/len` with `withPrefixLength`). */
export function ipv4InNetns(ns: string, withPrefixLength = false): string[] {
  const raw = execFileSync('ip', ['-n', ns, '-j', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' });
  const links = JSON.parse(raw) as Array<{ addr_info?: Array<{ family: string; local: string; prefixlen: number }> }>;
  return links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => (withPrefixLength ? `${a.local}/${a.prefixlen}` : a.local)));
}
