// The allocation path end to end (issue 4, "Must show" 1), everything real except the kubelet:
//   operator/src/main.ts as a child process (Lease, allocator, TLS gRPC with node client certificates
//   from the operator's own CA code) -> 3 simulated nodes (tests/nodesim, netns mode, one process per
//   node) running Debian's macvlan plugin with our built shim (the SEA) as its IPAM -> a Deployment
//   annotated ipam.spidernet.io/ippool.
// Checks: distinct pool addresses, each configured in its pod's netns, pods talk over macvlan across
// nodes, the IPAMBlocks hold exactly the pods' addresses and the derived views follow them
// (`kubectl get spiderippool` ALLOCATED-IP-COUNT/TOTAL-IP-COUNT/FREE, one SpiderEndpoint per pod),
// scale to 0 frees everything, and a node power-off/on (SIGKILL + restart on the same state dir)
// gives each of its pods the same address.
//
// How a simulated node reaches the operator: the shim runs inside the node's namespace
// (spts-node-<node>), where the host's 127.0.0.1 does not exist. A relay in each node namespace
// listens on 127.0.0.1:9443 there and pipes to a unix socket, which this test serves from the root
// namespace towards the operator's TCP port (netns-tool.mjs). The shim thus dials 127.0.0.1:9443 and
// verifies the operator's certificate for 127.0.0.1, as it would a Service address.
import type { V1Pod } from '@kubernetes/client-node';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { type ChildProcess, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockEntries, type IPAMBlock, LABEL_BLOCK_POOL } from '../../../operator/src/api/internal/ipamblock.js';
import type { SpiderEndpoint } from '../../../operator/src/api/v2beta1/types.js';
import { addressAt, poolLabelValue } from '../../../operator/src/service/block-layout.js';
import { listAllSandboxes, type SandboxRecord } from '../../nodesim/sandboxes.js';
import { listNetns, podNetnsPrefix } from '../../nodesim/netns.js';
import { ensureCluster, kubectl, kubeconfigPath } from '../../support/cluster.js';
import { NodesimProcess } from '../helpers/nodesim-process.js';
import { applyIpamBlockCrd, buildShimInto, createNamespaceAndPool, freePort, NETNS_TOOL, operatorEnv, printedPoolCounts, removeRunObjects, startInNetns, startNodeRelay, startOperatorRelay, waitNodesReady, writePki, writeShimConflist } from '../helpers/ipam-stack.js';
import { OperatorProcess } from '../helpers/operator-process.js';
import { containerId, ipv4InNetns, isReady } from '../helpers/pods.js';
import { waitFor, type Probe } from '../helpers/wait.js';

const RUN = randomBytes(3).toString('hex');
const NAMESPACE = `e2e-alloc-${RUN}`;
const POOL = `e2e-alloc-${RUN}`;
const APP = 'e2e-alloc';
const REPLICAS = 6;
const SUBNET = '198.18.60.0/24';
const FIRST = 10;
const LAST = 40;
const GATEWAY = '198.18.60.1';
// Node indexes away from the other nodesim tests (0-2, 200; scale runs 0-9): node IPs 198.19.0.61-63.
const NODES = [61, 62, 63].map((i) => ({ name: `e2e-${RUN}-${i}`, index: i }));
const NODE_NAMES = NODES.map((n) => n.name);
const RUN_LABEL = 'spiderpool-ts.io/e2e-run';
const NETWORK = 'e2e-macvlan';
const RELAY_PORT = 9443;
const IMAGE = 'registry.invalid/spts/pause:3.10';
// On power-on the simulator DELs the dead sandboxes before the new ADD, as containerd does;
// E2E_FORGET_DEAD_SANDBOXES=1 runs the other runtime behaviour (no DEL, the new ADD finds the record).
const FORGET_DEAD_SANDBOXES = process.env.E2E_FORGET_DEAD_SANDBOXES === '1';

const work = mkdtempSync(join(tmpdir(), `spts-e2e-${RUN}-`));
const stateDir = join(work, 'nodesim');
const certDir = join(work, 'certs');
const cniBin = join(work, 'cni-bin');
const opSocket = join(work, 'operator.sock');
const operatorLog = join(work, 'operator.log');
const logHint = `[logs: operator ${operatorLog}, nodesim ${join(work, 'nodesim-*.log')}, shim ${join(stateDir, 'nodes', '*', 'spiderpool-ts-ipam.log')}]`;

let core: CoreV1Api;
let apps: AppsV1Api;
let coord: CoordinationV1Api;
let operator: OperatorProcess | undefined;
let relayServer: Server | undefined;
const sims = new Map<string, NodesimProcess>();
const relays = new Map<string, ChildProcess>();
const helpers: ChildProcess[] = [];
const TESTS = 5;
let completed = 0;

// ---------------------------------------------------------------------------------------------

const wait = <T>(what: string, probe: () => Promise<Probe<T>>, timeoutMs: number, intervalMs = 1000): Promise<T> =>
  waitFor(`${what} ${logHint}`, probe, timeoutMs, intervalMs);

function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (err?.message ?? '') });
    });
  });
}

function writeConflist(): string {
  return writeShimConflist(join(work, 'conflist.json'), { network: NETWORK, certDir, relayPort: RELAY_PORT });
}

function simArgs(node: { name: string; index: number }, conflist: string, extra: string[] = []): string[] {
  return [
    '--kubeconfig', kubeconfigPath,
    '--nodes', `${node.name}=${node.index}`,
    '--mode', 'netns',
    '--cni-config', conflist,
    '--cni-path', cniBin,
    '--state-dir', stateDir,
    '--label', `${RUN_LABEL}=${RUN}`,
    // The cluster is shared: keep everyone else's pods off these nodes.
    '--taint', `${RUN_LABEL}=${RUN}:NoSchedule`,
    '--heartbeat', '5',
    '--retry-base', '500',
    '--retry-max', '3000',
    ...extra,
  ];
}

async function startRelay(node: string): Promise<void> {
  relays.get(node)?.kill('SIGKILL');
  relays.set(node, await startNodeRelay(node, RELAY_PORT, opSocket, join(work, `relay-${node}.log`)));
}


async function appPods(): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app=${APP}` })).items;
}

interface Seen {
  uid: string;
  name: string;
  node: string;
  ip: string;
  containerID: string;
  sandbox: SandboxRecord;
}

function inPool(ip: string): boolean {
  const m = /^198\.18\.60\.(\d+)$/.exec(ip);
  return !!m && Number(m[1]) >= FIRST && Number(m[1]) <= LAST;
}

/** All replicas Running+Ready, each with one sandbox record, distinct pool addresses. */
async function waitAllRunning(what: string, accept: (p: V1Pod, rec: SandboxRecord) => boolean, timeoutMs: number): Promise<Seen[]> {
  return wait<Seen[]>(
    what,
    async () => {
      const pods = (await appPods()).filter((p) => !p.metadata?.deletionTimestamp);
      const records = listAllSandboxes(stateDir);
      const seen: Seen[] = [];
      const notYet: string[] = [];
      for (const p of pods) {
        const uid = p.metadata!.uid!;
        const recs = records.filter((r) => r.podUid === uid);
        const rec = recs.length === 1 ? recs[0] : undefined;
        if (p.status?.phase !== 'Running' || !isReady(p) || !p.status.podIP || !rec || !accept(p, rec)) {
          notYet.push(`${p.metadata!.name}@${p.spec?.nodeName ?? '-'}:${p.status?.phase}/ready=${isReady(p)}/ip=${p.status?.podIP ?? '-'}/records=${recs.length}`);
          continue;
        }
        seen.push({ uid, name: p.metadata!.name!, node: p.spec!.nodeName!, ip: p.status.podIP, containerID: containerId(p), sandbox: rec });
      }
      const ips = new Set(seen.map((s) => s.ip));
      const ok = pods.length === REPLICAS && seen.length === REPLICAS && ips.size === REPLICAS;
      let events = '';
      if (!ok) {
        const ev = (await core.listNamespacedEvent({ namespace: NAMESPACE, fieldSelector: 'reason=FailedCreatePodSandBox' })).items;
        events = ev.length ? `; last FailedCreatePodSandBox: ${ev.at(-1)?.message}` : '';
      }
      return { ok, value: seen, detail: `${pods.length} pods, ${seen.length} ready, ${ips.size} distinct IPs; pending: ${notYet.slice(0, 6).join(', ') || 'none'}${events}` };
    },
    timeoutMs,
  );
}

/** IPv4 addresses on eth0 inside a netns (`ip -n <ns> -j addr`). */
function assertConfigured(seen: Seen[]): void {
  for (const s of seen) {
    expect(inPool(s.ip)).toBe(true);
    expect(NODE_NAMES).toContain(s.node);
    expect(existsSync(`/run/netns/${s.sandbox.netns}`)).toBe(true);
    expect({ pod: s.name, addrs: ipv4InNetns(s.sandbox.netns, true) }).toEqual({ pod: s.name, addrs: [`${s.ip}/24`] });
  }
}

interface Recorded {
  uid: string;
  cid: string | undefined;
  node: string | undefined;
}

/** The pool's IPAMBlock entries: address -> (pod uid, container id, node); and how many blocks exist. */
async function recorded(): Promise<{ entries: Map<string, Recorded>; blocks: number }> {
  const out = JSON.parse(await kubectl(['get', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `${LABEL_BLOCK_POOL}=${poolLabelValue(POOL)}`, '-o', 'json'])) as { items: IPAMBlock[] };
  const entries = new Map<string, Recorded>();
  const blocks = out.items.filter((b) => b.spec.pool === POOL);
  for (const b of blocks) {
    for (const { offset, entry } of blockEntries(b)) {
      if (entry instanceof Error) throw entry;
      entries.set(addressAt(4, b.spec.cidr, offset), { uid: entry.uid, cid: entry.cid, node: entry.node });
    }
  }
  return { entries, blocks: blocks.length };
}

async function waitRecordedMatches(what: string, seen: Seen[], timeoutMs = 30_000): Promise<void> {
  const want = new Map(seen.map((s) => [s.ip, s.uid]));
  await wait(
    what,
    async () => {
      const { entries } = await recorded();
      const got = new Map([...entries].map(([ip, r]) => [ip, r.uid]));
      const ok = got.size === want.size && [...want].every(([ip, uid]) => got.get(ip) === uid);
      return { ok, detail: `blocks hold ${JSON.stringify([...got])}, pods ${JSON.stringify([...want])}` };
    },
    timeoutMs,
  );
}

async function waitPoolCounts(allocated: number): Promise<void> {
  const total = LAST - FIRST + 1;
  const want = { allocated: String(allocated), total: String(total), free: String(total - allocated) };
  const got = await wait(
    `kubectl get spiderippool ${POOL} to show ALLOCATED-IP-COUNT ${allocated}`,
    async () => {
      const c = await printedPoolCounts(POOL);
      return { ok: c.allocated === want.allocated && c.total === want.total && c.free === want.free, value: c, detail: c.table };
    },
    30_000,
  );
  process.stderr.write(`kubectl get spiderippool ${POOL}:\n${got.table}`);
}

/** One SpiderEndpoint per pod, naming its uid, node and address from the pool; none else. */
async function waitEndpoints(seen: Seen[]): Promise<void> {
  const want = seen.map((s) => ({ name: s.name, uid: s.uid, node: s.node, ipv4: `${s.ip}/24`, ipv4Pool: POOL })).sort((x, y) => x.name.localeCompare(y.name));
  await wait(
    `one SpiderEndpoint per pod (${seen.length})`,
    async () => {
      const list = JSON.parse(await kubectl(['get', 'spiderendpoints', '-n', NAMESPACE, '-o', 'json'])) as { items: SpiderEndpoint[] };
      const got = list.items
        .map((e) => ({ name: e.metadata.name ?? '', uid: e.status?.current.uid, node: e.status?.current.node, ipv4: e.status?.current.ips[0]?.ipv4, ipv4Pool: e.status?.current.ips[0]?.ipv4Pool }))
        .sort((x, y) => x.name.localeCompare(y.name));
      return { ok: JSON.stringify(got) === JSON.stringify(want), detail: `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}` };
    },
    30_000,
  );
}

async function scale(replicas: number): Promise<void> {
  await kubectl(['scale', `deployment/${APP}`, '-n', NAMESPACE, `--replicas=${replicas}`]);
}

/** `probe` from one pod's netns to a server in another pod's netns (TCP over the macvlan L2). */
async function talk(from: Seen, to: Seen): Promise<string> {
  const port = 7000 + Math.floor(Math.random() * 1000);
  const server = await startInNetns(to.sandbox.netns, ['serve', to.ip, String(port)], join(work, 'probe.log'));
  helpers.push(server);
  try {
    const r = await run('ip', ['netns', 'exec', from.sandbox.netns, process.execPath, NETNS_TOOL, 'probe', to.ip, String(port), '3000']);
    if (r.code !== 0) throw new Error(`${from.name} (${from.ip} on ${from.node}) cannot reach ${to.name} (${to.ip} on ${to.node}): ${r.stderr.trim()}`);
    return r.stdout.trim();
  } finally {
    server.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  await ensureCluster({ timeoutMs: 45 * 60_000 });
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  coord = kc.makeApiClient(CoordinationV1Api);
  await applyIpamBlockCrd();

  // The shim, built once and copied (a concurrent build elsewhere empties ipam-plugin/dist).
  buildShimInto(cniBin);

  // PKI from the operator's own CA code: a server certificate for 127.0.0.1, one client certificate
  // per node (CN = node, O = spiderpool-ts:nodes) in its own directory.
  await writePki(certDir, { caName: `spiderpool-ts e2e CA ${RUN}`, dnsName: 'spiderpool-ts-operator.e2e', nodes: NODE_NAMES });

  await createNamespaceAndPool(wait, core, { namespace: NAMESPACE, pool: POOL, subnet: SUBNET, ips: [`198.18.60.${FIRST}-198.18.60.${LAST}`], gateway: GATEWAY });

  // The operator, and the root-namespace end of the relays: unix socket -> operator's TCP port.
  const grpcPort = await freePort();
  const healthPort = await freePort();
  operator = new OperatorProcess(
    operatorEnv({ kubeconfig: kubeconfigPath, podName: `e2e-operator-${RUN}`, namespace: NAMESPACE, certDir, grpcPort, healthPort }),
    operatorLog,
  );
  await operator.start();
  relayServer = await startOperatorRelay(opSocket, grpcPort);
}, 10 * 60_000);

afterAll(async () => {
  const passed = completed === TESTS;
  if (apps && core) {
    // While the nodes still run: deleting the pods runs their CNI DEL (the shim releases).
    await apps.deleteNamespacedDeployment({ name: APP, namespace: NAMESPACE, propagationPolicy: 'Background' }).catch(() => undefined);
    await waitFor('pods gone', async () => {
      const n = (await appPods().catch(() => [])).length;
      return { ok: n === 0, detail: `${n} left` };
    }, 60_000).catch((e: Error) => process.stderr.write(`e2e cleanup: ${e.message}\n`));
  }
  for (const h of helpers) h.kill('SIGKILL');
  for (const r of relays.values()) r.kill('SIGKILL');
  for (const s of sims.values()) await s.stop(15_000).catch(() => undefined);
  await operator?.stop().catch(() => undefined);
  relayServer?.close();
  await removeRunObjects({ core, coord, namespace: NAMESPACE, nodes: NODE_NAMES, pool: POOL, stateDir, prefix: 'e2e cleanup' });
  if (passed) rmSync(work, { recursive: true, force: true });
  else process.stderr.write(`e2e allocation-path: kept ${work} ${logHint}\n`);
}, 180_000);

describe('allocation path end to end: operator + shim + macvlan on 3 simulated nodes', () => {
  let first: Seen[] = [];
  let conflist = '';

  test('3 simulated nodes with the shim as macvlan IPAM register and become Ready', async () => {
    conflist = writeConflist();
    for (const n of NODES) {
      const sim = new NodesimProcess(simArgs(n, conflist), join(work, `nodesim-${n.name}.log`));
      sims.set(n.name, sim);
      await sim.start();
      await startRelay(n.name);
    }
    await waitNodesReady(wait, core, `${RUN_LABEL}=${RUN}`, NODES.length, 'the 3 nodes Ready without node.kubernetes.io taints');
    completed++;
  }, 150_000);

  test('a Deployment annotated with the pool: every pod Running with a distinct pool IP, configured in its netns, reachable over macvlan across nodes, recorded in the blocks', async () => {
    await apps.createNamespacedDeployment({
      namespace: NAMESPACE,
      body: {
        metadata: { name: APP, namespace: NAMESPACE },
        spec: {
          replicas: REPLICAS,
          selector: { matchLabels: { app: APP } },
          template: {
            metadata: { labels: { app: APP }, annotations: { 'ipam.spidernet.io/ippool': JSON.stringify({ ipv4: [POOL] }) } },
            spec: {
              nodeSelector: { [RUN_LABEL]: RUN },
              tolerations: [{ key: RUN_LABEL, operator: 'Equal', value: RUN, effect: 'NoSchedule' }],
              automountServiceAccountToken: false,
              terminationGracePeriodSeconds: 1,
              topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: APP } } }],
              containers: [{ name: 'app', image: IMAGE }],
            },
          },
        },
      },
    });
    first = await waitAllRunning(`${REPLICAS} replicas Running with distinct IPs from ${POOL}`, () => true, 150_000);
    assertConfigured(first);
    expect(NODE_NAMES.map((n) => first.filter((s) => s.node === n).length)).toEqual([2, 2, 2]);

    // Across two different nodes, both ways, and on one node.
    const a = first.find((s) => s.node === NODE_NAMES[0])!;
    const b = first.find((s) => s.node === NODE_NAMES[1])!;
    const a2 = first.find((s) => s.node === NODE_NAMES[0] && s !== a)!;
    expect(await talk(a, b)).toBe(`hello from ${b.ip}`);
    expect(await talk(b, a)).toBe(`hello from ${a.ip}`);
    expect(await talk(a2, a)).toBe(`hello from ${a.ip}`);

    // The blocks (the one record) hold exactly these pods' addresses, each with its sandbox and node.
    await waitRecordedMatches('the IPAMBlocks to hold exactly the pods addresses', first);
    const { entries } = await recorded();
    for (const s of first) expect(entries.get(s.ip)).toEqual({ uid: s.uid, cid: s.sandbox.sandboxId, node: s.node });

    // The derived views: `kubectl get spiderippool` counts and one SpiderEndpoint per pod.
    await waitPoolCounts(REPLICAS);
    await waitEndpoints(first);
    completed++;
  }, 240_000);

  test('scale to 0 frees every address (blocks empty), scale back up allocates again', async () => {
    await scale(0);
    await wait('every pod gone after scaling to 0', async () => {
      const pods = await appPods();
      return { ok: pods.length === 0, detail: `${pods.length} left: ${pods.map((p) => p.metadata?.name).join(', ')}` };
    }, 90_000);
    await wait('the pool blocks empty or deleted', async () => {
      const { entries, blocks } = await recorded();
      return { ok: entries.size === 0, detail: `${blocks} blocks, entries ${JSON.stringify([...entries.keys()])}` };
    }, 30_000);
    expect(listNetns().filter((ns) => NODE_NAMES.some((n) => ns.startsWith(podNetnsPrefix(n))))).toEqual([]);
    await waitPoolCounts(0);
    await waitEndpoints([]);

    await scale(REPLICAS);
    first = await waitAllRunning(`${REPLICAS} replicas Running again after scaling up`, () => true, 150_000);
    assertConfigured(first);
    await waitRecordedMatches('the IPAMBlocks to hold exactly the new pods addresses', first);
    await waitPoolCounts(REPLICAS);
    await waitEndpoints(first);
    completed++;
  }, 300_000);

  test('node power-off/on (SIGKILL, restart on the same state dir): each pod on that node gets the same IP back in a new sandbox', async () => {
    const victim = NODES[2]!;
    const onVictim = first.filter((s) => s.node === victim.name);
    expect(onVictim.length).toBeGreaterThan(0);
    const sim = sims.get(victim.name)!;
    expect((await sim.powerOff()).signal).toBe('SIGKILL');
    relays.get(victim.name)?.kill('SIGKILL');
    // Power on. Like containerd, the simulator first DELs each dead sandbox (old container id, empty
    // netns): the operator keeps the addresses because the pod lives on, on this node, and the new
    // sandbox's ADD gets them back by pod UID + interface, recording the new container id.
    const restarted = new NodesimProcess(simArgs(victim, conflist, FORGET_DEAD_SANDBOXES ? ['--no-release-dead-sandboxes'] : []), sim.logFile);
    sims.set(victim.name, restarted);
    await restarted.start(60_000).catch((e: Error) => {
      throw new Error(`${e.message} ${logHint}`);
    });
    await startRelay(victim.name);
    const before = new Map(first.map((s) => [s.uid, s]));
    const after = await waitAllRunning(
      `the pods of ${victim.name} Running again in new sandboxes after power-on`,
      (p, rec) => {
        const old = before.get(p.metadata!.uid!);
        return !!old && (old.node !== victim.name || (rec.sandboxId !== old.sandbox.sandboxId && containerId(p) !== old.containerID));
      },
      150_000,
    );
    expect(new Set(after.map((s) => s.uid))).toEqual(new Set(first.map((s) => s.uid)));
    assertConfigured(after);
    for (const s of after) {
      const old = before.get(s.uid)!;
      expect({ pod: s.name, node: s.node, ip: s.ip }).toEqual({ pod: old.name, node: old.node, ip: old.ip });
    }
    for (const s of onVictim) expect(existsSync(`/run/netns/${s.sandbox.netns}`)).toBe(false);
    await waitRecordedMatches('the IPAMBlocks unchanged by the power cycle', after);
    const { entries } = await recorded();
    for (const s of after) expect(entries.get(s.ip)?.cid).toBe(s.sandbox.sandboxId);
    await waitPoolCounts(REPLICAS);
    await waitEndpoints(after);
    // Still talking across nodes from the rebooted node.
    const x = after.find((s) => s.node === victim.name)!;
    const y = after.find((s) => s.node === NODE_NAMES[0])!;
    expect(await talk(x, y)).toBe(`hello from ${y.ip}`);
    expect(await talk(y, x)).toBe(`hello from ${x.ip}`);
    completed++;
  }, 300_000);

  test('deleting the Deployment releases every address', async () => {
    await apps.deleteNamespacedDeployment({ name: APP, namespace: NAMESPACE, propagationPolicy: 'Background' });
    await wait('every pod gone after deleting the Deployment', async () => {
      const pods = await appPods();
      return { ok: pods.length === 0, detail: `${pods.length} left` };
    }, 90_000);
    await wait('the pool blocks empty', async () => {
      const { entries } = await recorded();
      return { ok: entries.size === 0, detail: JSON.stringify([...entries.keys()]) };
    }, 30_000);
    await waitPoolCounts(0);
    await waitEndpoints([]);
    completed++;
  }, 150_000);
});

