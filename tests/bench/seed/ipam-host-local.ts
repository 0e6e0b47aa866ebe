// Baseline: Debian's host-local (containernetworking-plugins, /usr/lib/cni/host-local). Node-local
// ranges, no cluster-wide state. Each node gets its own /24 (198.18.<NODE_INDEX>.0/24, and
// fd53:be:<NODE_INDEX>::/64 for dual stack) restricted with rangeStart/rangeEnd to
// ceil(addresses / nodes) addresses, so all nodes together hold the scenario's addresses. host-local
// cannot be 1:1 cluster-wide: a node whose share is used up fails its next pod even if other nodes have
// free addresses (the harness caps each node's pod capacity at its share, see scenario.ts).
// Allocations are files named by address in <NODE_STATE_DIR>/host-local/<network>/.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { BenchIpam, IpamContext, PreparedIpam } from './ipam.js';
import { perNodeAddresses } from './scenario.js';

export const NETWORK = 'spts-bench';

export function hostLocalConflist(ctx: IpamContext): string {
  const per = perNodeAddresses(ctx.scenario);
  if (per > 252) throw new Error(`host-local: ${per} addresses per node do not fit the per-node /24 (use more --nodes)`);
  // .1 is the gateway (host-local never hands out a range's gateway): the range is .2 .. .(per+1).
  const ranges: unknown[] = [[{ subnet: '198.18.${NODE_INDEX}.0/24', gateway: '198.18.${NODE_INDEX}.1', rangeStart: '198.18.${NODE_INDEX}.2', rangeEnd: `198.18.\${NODE_INDEX}.${per + 1}` }]];
  if (ctx.scenario.dual) ranges.push([{ subnet: 'fd53:be:${NODE_INDEX}::/64', gateway: 'fd53:be:${NODE_INDEX}::1', rangeStart: 'fd53:be:${NODE_INDEX}::2', rangeEnd: `fd53:be:\${NODE_INDEX}::${(per + 1).toString(16)}` }]);
  const conf = { cniVersion: '1.0.0', name: NETWORK, plugins: [{ type: 'macvlan', master: 'eth0', ipam: { type: 'host-local', ranges, dataDir: '${NODE_STATE_DIR}/host-local' } }] };
  const file = join(ctx.workDir, 'host-local.conflist');
  writeFileSync(file, JSON.stringify(conf, null, 2));
  return file;
}

/** Addresses host-local holds on the nodes: its on-disk allocation files. */
export function hostLocalAllocated(stateDir: string, nodes: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    const dir = join(stateDir, 'nodes', n, 'host-local', NETWORK);
    if (!existsSync(dir)) continue;
    out.push(...readdirSync(dir).filter((f) => isIP(f) !== 0));
  }
  return out;
}

export const hostLocal: BenchIpam = {
  name: 'host-local',
  prepare(ctx: IpamContext): Promise<PreparedIpam> {
    return Promise.resolve({
      conflist: hostLocalConflist(ctx),
      cniPath: '/usr/lib/cni',
      podAnnotations: {},
      allocated: () => Promise.resolve(hostLocalAllocated(ctx.stateDir, ctx.nodes.map((n) => n.name))),
      teardown: () => Promise.resolve(),
    });
  },
};

/** Any other plugin: a conflist template (nodesim placeholders) and the dir holding its binary. */
export function customIpam(name: string, conflist: string, cniPath: string): BenchIpam {
  return {
    name,
    prepare: () => Promise.resolve({ conflist, cniPath, podAnnotations: {}, teardown: () => Promise.resolve() }),
  };
}
