// The data path end to end (issue 9, "Must show" 1): pods get their addresses from our pools through
// the real operator + shim + Debian's macvlan plugin, on two simulated nodes whose uplinks are ports of
// one bridge ("switch"), with a router namespace holding both subnets' gateways. Dual stack: every pod
// gets an IPv4 and an IPv6 address from subnet A or B.
//
//   node n1: a1 (A, plus an ipam.spidernet.io/routes annotation), a1b (A), b1 (B)
//   node n2: a2 (A), b2 (B)
//
// Checks: the addresses are from the pools and held in the IPAMBlocks; each pod namespace's eth0
// addresses and main-table routes are exactly what the pool (subnet, gateway, spec.routes) and the
// annotation say; every ordered pair of pods reaches each other over TCP and UDP, IPv4 and IPv6 (same
// node / across nodes, same subnet / across subnets through the router); deleting the pods (Pod object,
// then CNI DEL as a kubelet does) releases every record.
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCluster } from '../../support/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { IpamPods, type NodeDef, type PodNet, type PoolDef } from './ipam-pods.js';
import { Netns } from './netns.js';
import { globalAddrs, routes, type SeenRoute } from './pod-routes.js';
import { probe, startServer } from './probes.js';
import { buildSwitchedTopology, type Subnet } from './switched-topology.js';

const RUN = randomBytes(3).toString('hex');
const PORT = 7070;
const A: Subnet = { v4: '198.18.90.0/24', gw4: '198.18.90.1', v6: '2001:db8:90::/64', gw6: '2001:db8:90::1' };
const B: Subnet = { v4: '198.18.91.0/24', gw4: '198.18.91.1', v6: '2001:db8:91::/64', gw6: '2001:db8:91::1' };
// Pool spec.routes (subnet B's pools) and the pod annotation (a1) each add one route per family.
const B_POOL_ROUTES = { v4: { dst: '198.18.98.0/24', gw: B.gw4 }, v6: { dst: '2001:db8:98::/64', gw: B.gw6 } };
const A1_ANNOTATED = { v4: { dst: '198.18.99.0/24', gw: A.gw4 }, v6: { dst: '2001:db8:99::/64', gw: A.gw6 } };

const pool = (s: 'a' | 'b', fam: 4 | 6) => `dp-${RUN}-${s}${fam}`;
const POOLS: PoolDef[] = [
  { name: pool('a', 4), subnet: A.v4, ips: ['198.18.90.10-198.18.90.40'], gateway: A.gw4 },
  { name: pool('a', 6), subnet: A.v6, ips: ['2001:db8:90::10-2001:db8:90::40'], gateway: A.gw6 },
  { name: pool('b', 4), subnet: B.v4, ips: ['198.18.91.10-198.18.91.40'], gateway: B.gw4, routes: [B_POOL_ROUTES.v4] },
  { name: pool('b', 6), subnet: B.v6, ips: ['2001:db8:91::10-2001:db8:91::40'], gateway: B.gw6, routes: [B_POOL_ROUTES.v6] },
];

interface PodPlan {
  name: string;
  node: 'n1' | 'n2';
  subnet: 'a' | 'b';
  annotatedRoutes: boolean;
}
const PLAN: PodPlan[] = [
  { name: 'a1', node: 'n1', subnet: 'a', annotatedRoutes: true },
  { name: 'a1b', node: 'n1', subnet: 'a', annotatedRoutes: false },
  { name: 'b1', node: 'n1', subnet: 'b', annotatedRoutes: false },
  { name: 'a2', node: 'n2', subnet: 'a', annotatedRoutes: false },
  { name: 'b2', node: 'n2', subnet: 'b', annotatedRoutes: false },
];

const work = mkdtempSync(join(tmpdir(), `spts-dataplane-${RUN}-`));
const net = new Netns(`spdp-${RUN}`);
let ipam: IpamPods | undefined;
const nodes = new Map<string, NodeDef>();
const pods = new Map<string, PodNet>();
const servers: ChildProcess[] = [];
const TESTS = 4;
let completed = 0;

const log = (m: string) => process.stderr.write(`[dataplane ${RUN}] ${m}\n`);

function inRange(ip: string, s: 'a' | 'b', fam: 4 | 6): boolean {
  const third = s === 'a' ? 90 : 91;
  const m = fam === 4 ? new RegExp(`^198\\.18\\.${third}\\.(\\d+)$`).exec(ip) : new RegExp(`^2001:db8:${third}::([0-9a-f]+)$`).exec(ip);
  if (!m) return false;
  const n = fam === 4 ? Number(m[1]) : parseInt(m[1]!, 16);
  return n >= (fam === 4 ? 10 : 0x10) && n <= (fam === 4 ? 40 : 0x40);
}

/** What the pool and the annotation say the pod's main table holds, per family (kernel routes apart). */
function expectedRoutes(plan: PodPlan, fam: 4 | 6): SeenRoute[] {
  const s = plan.subnet === 'a' ? A : B;
  const key = fam === 4 ? 'v4' : 'v6';
  const gw = fam === 4 ? s.gw4 : s.gw6;
  const subnet = fam === 4 ? s.v4 : s.v6;
  const out: SeenRoute[] = [
    { dst: subnet, dev: 'eth0', protocol: 'kernel' },
    { dst: 'default', gateway: gw, dev: 'eth0', protocol: 'static' },
  ];
  if (fam === 6) out.push({ dst: 'fe80::/64', dev: 'eth0', protocol: 'kernel' });
  if (plan.subnet === 'b') out.push({ dst: B_POOL_ROUTES[key].dst, gateway: B_POOL_ROUTES[key].gw, dev: 'eth0', protocol: 'static' });
  if (plan.annotatedRoutes) out.push({ dst: A1_ANNOTATED[key].dst, gateway: A1_ANNOTATED[key].gw, dev: 'eth0', protocol: 'static' });
  return out.sort((x, y) => x.dst.localeCompare(y.dst));
}

/** Routes macvlan installs carry no protocol of their own (netlink's default): only kernel vs not matters. */
const normalise = (rs: SeenRoute[]): SeenRoute[] => rs.map((r) => ({ ...r, protocol: r.protocol === 'kernel' ? 'kernel' : 'static' }));

beforeAll(async () => {
  await ensureCluster({ timeoutMs: 45 * 60_000 });
  const topo = await buildSwitchedTopology(net, ['n1', 'n2'], [A, B]);
  for (const [role, ns] of topo.nodes) nodes.set(role, { name: `dp-${RUN}-${role}`, ns });
  ipam = new IpamPods({ run: RUN, work, nodes: [...nodes.values()], pools: POOLS, ipv6: true, netns: net, log });
  await ipam.start();
  for (const p of PLAN) {
    const annotations: Record<string, string> = { 'ipam.spidernet.io/ippool': JSON.stringify({ ipv4: [pool(p.subnet, 4)], ipv6: [pool(p.subnet, 6)] }) };
    if (p.annotatedRoutes) annotations['ipam.spidernet.io/routes'] = JSON.stringify([A1_ANNOTATED.v4, A1_ANNOTATED.v6]);
    pods.set(p.name, await ipam.addPod(p.name, nodes.get(p.node)!, annotations));
  }
  for (const p of pods.values()) servers.push(await startServer(p.netns, p.name, PORT));
}, 300_000);

afterAll(async () => {
  for (const s of servers) s.kill('SIGKILL');
  const problems = [...((await ipam?.stop()) ?? []), ...(await net.teardown())];
  if (problems.length) log(`cleanup problems: ${problems.join('; ')}`);
  if (completed !== TESTS) log(`kept ${work} (operator log, shim logs)`);
  else rmSync(work, { recursive: true, force: true });
}, 120_000);

describe('data path: macvlan pods with addresses from our pools on two simulated nodes and a router', () => {
  test('every pod has one IPv4 and one IPv6 address from its pools, all distinct, all recorded in the IPAMBlocks', async () => {
    expect(pods.size).toBe(PLAN.length);
    for (const plan of PLAN) {
      const p = pods.get(plan.name)!;
      expect({ pod: p.name, v4: inRange(p.ipv4 ?? '', plan.subnet, 4), v6: inRange(p.ipv6 ?? '', plan.subnet, 6) }).toEqual({ pod: p.name, v4: true, v6: true });
    }
    const all = [...pods.values()].flatMap((p) => [p.ipv4, p.ipv6]);
    expect(new Set(all).size).toBe(PLAN.length * 2);
    expect(await ipam!.recordedCount()).toBe(PLAN.length * 2);
    completed++;
  });

  test('each pod namespace holds exactly the pool addresses, the pool gateway as default route, the pool spec.routes and the annotated routes', async () => {
    for (const plan of PLAN) {
      const p = pods.get(plan.name)!;
      const s = plan.subnet === 'a' ? A : B;
      // The CNI result our shim produced names the pool's gateway per family.
      expect({ pod: p.name, gateways: p.result.ips.map((i) => i.gateway) }).toEqual({ pod: p.name, gateways: [s.gw4, s.gw6] });
      expect({ pod: p.name, addrs: (await globalAddrs(p.netns)).sort() }).toEqual({ pod: p.name, addrs: [`${p.ipv4}/24`, `${p.ipv6}/64`].sort() });
      for (const fam of [4, 6] as const) {
        expect({ pod: p.name, fam, routes: normalise(await routes(p.netns, fam)) }).toEqual({ pod: p.name, fam, routes: expectedRoutes(plan, fam) });
      }
    }
    completed++;
  });

  test('every pod reaches every other pod over TCP and UDP, IPv4 and IPv6: same node, across nodes, across subnets through the router', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const from of pods.values()) {
      const others = [...pods.values()].filter((p) => p !== from);
      const targets = others.flatMap((p) => [{ ip: p.ipv4!, port: PORT }, { ip: p.ipv6!, port: PORT }]);
      const results = await probe(from.netns, targets, 5000);
      for (const r of results) {
        const to = others.find((p) => p.ipv4 === r.ip || p.ipv6 === r.ip)!;
        // TCP: the server's local address; UDP: the address the answer came from. Both must be `to`'s.
        const want = `pong ${to.name} ${r.ip}`;
        checked++;
        if (!r.ok || r.reply !== want) failures.push(`${from.name}@${from.node} -> ${to.name}@${to.node} ${r.ip} ${r.proto}: ${r.ok ? `got "${r.reply}"` : r.error}`);
      }
    }
    expect(checked).toBe(PLAN.length * (PLAN.length - 1) * 2 * 2);
    expect(failures).toEqual([]);
    completed++;
  });

  test('deleting the pods and their CNI DEL releases every address: the IPAMBlocks hold no record of the run', async () => {
    for (const s of servers.splice(0)) s.kill('SIGKILL');
    expect(await ipam!.delAllPods()).toEqual([]);
    await waitFor('the run\'s IPAMBlock records gone', async () => {
      const n = await ipam!.recordedCount();
      return { ok: n === 0, detail: `${n} records` };
    }, 30_000);
    completed++;
  });
});
