// `npm run demo`: the local demo, end to end on real components, with our IPAM.
//
//  1. the local control plane (etcd + kube-apiserver/controller-manager/scheduler 1.33, built once into
//     ~/.cache/spiderpool-ts) with our CRDs installed;
//  2. the shim built (`npm run build -w ipam-plugin`) into a CNI dir next to Debian's macvlan;
//  3. the operator (operator/src/main.ts) as a local process: Lease, allocator, TLS gRPC with
//     certificates from its own CA code;
//  4. three simulated nodes (tests/nodesim) running macvlan + our shim in real network namespaces;
//  5. a SpiderIPPool and a Deployment of 10 replicas annotated with it: every pod Running with a pool
//     address configured inside its namespace, the pool's ALLOCATED-IP-COUNT 10, one SpiderEndpoint
//     per pod; scale to 0 gives every address back;
//  6. the shipped samples (config/samples, addresses moved into the demo network, hack/demo-samples.ts)
//     and a copy of the sample Deployment annotated with the sample SpiderSubnet: its own auto pool;
//     ends with them Running and `kubectl get spidersubnet,spiderippool` / spiderendpoints listed;
//  7. teardown (operator, nodes, namespace, pool, blocks, netns; the cluster if the demo started it).
//
// A previous run that died half-way leaves processes, objects and netns behind: the demo removes them
// first (its processes are recorded in <work>/pids).
//
//   npm run demo [-- --keep-cluster]     (leave the control plane running afterwards)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LABEL_BLOCK_POOL } from '../operator/src/api/internal/ipamblock.js';
import { poolLabelValue } from '../operator/src/service/block-layout.js';
import { listAllSandboxes } from '../tests/nodesim/sandboxes.js';
import { buildShimInto, freePort, operatorEnv, SHIM, startNodeRelay, startOperatorRelay, writePki, writeShimConflist } from '../tests/integration/helpers/ipam-stack.js';
import { NodesimProcess } from '../tests/integration/helpers/nodesim-process.js';
import { OperatorProcess, tail } from '../tests/integration/helpers/operator-process.js';
import { metricsExcerpt } from '../tests/integration/metrics/excerpt.js';
import { SAMPLE_APP, SAMPLE_AUTO_APP, SAMPLE_SUBNET, demoSamples, removeDemoSamples } from './demo-samples.js';
import { waitFor, type Probe } from '../tests/integration/helpers/wait.js';
import { ensureCluster, isClusterReady, kubectl, kubeconfigPath, repoRoot } from '../tests/support/cluster.js';

const { values } = parseArgs({ options: { 'keep-cluster': { type: 'boolean', default: false } } });
const NS = 'spiderpool-ts-demo';
const POOL = 'demo-v4-pool';
const SUBNET_NAME = 'demo-v4';
const APP = 'demo';
const REPLICAS = 10;
const NODES = ['demo-0', 'demo-1', 'demo-2'];
// Node indexes 51-53: away from the nodesim tests (0-2, 200; scale 0-9) and the e2e tests (61-63, 71-74).
const NODE_INDEX = 51;
const LABEL = 'spiderpool-ts.io/demo';
const RELAY_PORT = 9443;
const WORK = join(tmpdir(), 'spiderpool-ts-demo');
const stateDir = join(WORK, 'nodesim');
const certDir = join(WORK, 'certs');
const cniBin = join(WORK, 'cni-bin');
const opSocket = join(WORK, 'operator.sock');
const pidFile = join(WORK, 'pids');
const operatorLog = join(WORK, 'operator.log');
const nodesimLog = join(WORK, 'nodesim.log');
const logHint = `(logs: ${operatorLog}, ${nodesimLog}, ${join(stateDir, 'nodes', '*', `${SHIM}.log`)})`;

const t0 = Date.now();
const elapsed = () => `+${((Date.now() - t0) / 1000).toFixed(1)}s`;
const step = (msg: string) => process.stdout.write(`\n[demo ${elapsed()}] ${msg}\n`);
const show = (text: string) => process.stdout.write(text.trimEnd().replace(/^/gm, '    ') + '\n');
const wait = <T>(what: string, probe: () => Promise<Probe<T>>, timeoutMs: number, intervalMs = 1000): Promise<T> =>
  waitFor(`${what} ${logHint}`, probe, timeoutMs, intervalMs);

const resources = `
apiVersion: spiderpool.spidernet.io/v2beta1
kind: SpiderSubnet
metadata: { name: ${SUBNET_NAME} }
spec: { ipVersion: 4, subnet: 198.18.10.0/24, gateway: 198.18.10.1, ips: ["198.18.10.2-198.18.10.254"] }
---
apiVersion: spiderpool.spidernet.io/v2beta1
kind: SpiderIPPool
metadata: { name: ${POOL} }
spec:
  ipVersion: 4
  subnet: 198.18.10.0/24
  gateway: 198.18.10.1
  ips: ["198.18.10.10-198.18.10.59"]
  excludeIPs: ["198.18.10.20"]
`;

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: APP, namespace: NS },
  spec: {
    replicas: REPLICAS,
    selector: { matchLabels: { app: APP } },
    template: {
      metadata: { labels: { app: APP }, annotations: { 'ipam.spidernet.io/ippool': JSON.stringify({ ipv4: [POOL] }) } },
      spec: {
        nodeSelector: { [LABEL]: 'true' },
        tolerations: [{ key: LABEL, operator: 'Exists', effect: 'NoSchedule' }],
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'app', image: 'registry.invalid/spts/pause:3.10' }],
      },
    },
  },
};

interface PodList {
  items: Array<{
    metadata: { name: string; uid: string; deletionTimestamp?: string };
    spec: { nodeName?: string };
    status: { phase?: string; podIP?: string };
  }>;
}

// --- processes of this run, recorded so that a later run can end them if this one dies -----------

let operator: OperatorProcess | undefined;
let sim: NodesimProcess | undefined;
let relayServer: Server | undefined;
const relays: ChildProcess[] = [];

function recordPids(): void {
  const pids = [operator?.pid(), sim?.pid(), ...relays.map((r) => r.pid)].filter((p): p is number => p !== undefined);
  writeFileSync(pidFile, pids.join('\n') + '\n');
}

/** Ends the processes a previous run recorded, if they are still ours (a node process with our paths). */
function killLeftoverProcesses(): number {
  if (!existsSync(pidFile)) return 0;
  let n = 0;
  for (const pid of readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number)) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue; // gone
    }
    if (!/operator\/src\/main\.ts|tests\/nodesim\/main\.ts|netns-tool\.mjs/.test(cmd)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      n++;
    } catch {
      /* gone meanwhile */
    }
  }
  return n;
}

function nodesimCli(args: string[]): void {
  execFileSync(process.execPath, ['--disable-warning=DEP0180', '--import', './hack/register-ts.mjs', 'tests/nodesim/main.ts', ...args], {
    cwd: repoRoot,
    stdio: 'ignore',
    timeout: 60_000,
  });
}

/** Objects and netns of the demo, whatever state a run left them in. Bounded; each part best effort. */
async function removeDemoObjects(report: (what: string) => void): Promise<void> {
  const attempt = async (what: string, f: () => Promise<unknown>): Promise<void> => {
    try {
      await f();
    } catch (e) {
      report(`${what}: ${(e as Error).message.split('\n')[0]}`);
    }
  };
  const nsExists = await kubectl(['get', 'namespace', NS, '--ignore-not-found', '-o', 'name']).catch(() => '');
  if (nsExists.trim()) {
    // Every Deployment (the demo's and the samples'): a live one would recreate the pods removed below.
    await attempt('deployments', () => kubectl(['delete', 'deployments', '--all', '-n', NS, '--ignore-not-found', '--wait=true', '--timeout=60s'], { timeoutMs: 70_000 }));
    // Pods whose node is gone never finish terminating: remove them outright.
    await attempt('pods', () => kubectl(['delete', 'pods', '--all', '-n', NS, '--force', '--grace-period=0', '--ignore-not-found'], { timeoutMs: 60_000 }));
    // The operator is gone by now: nothing would remove the finalizers of endpoints still in use.
    await attempt('endpoint finalizers', async () => {
      const names = (await kubectl(['get', 'spiderendpoints', '-n', NS, '-o', 'name'])).trim().split('\n').filter(Boolean);
      for (const n of names) await kubectl(['patch', n, '-n', NS, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => undefined);
    });
    await attempt(`namespace ${NS}`, () => kubectl(['delete', 'namespace', NS, '--ignore-not-found', '--wait=true', '--timeout=120s'], { timeoutMs: 130_000 }));
  }
  await attempt('nodes', () => kubectl(['delete', 'node', ...NODES, '--ignore-not-found']));
  await attempt('node leases', () => kubectl(['delete', 'lease', '-n', 'kube-node-lease', ...NODES, '--ignore-not-found']));
  await attempt('pool and subnet', () => kubectl(['delete', 'spiderippool', POOL, '--ignore-not-found']).then(() => kubectl(['delete', 'spidersubnet', SUBNET_NAME, '--ignore-not-found'])));
  await attempt('IPAM blocks', () => kubectl(['delete', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `${LABEL_BLOCK_POOL}=${poolLabelValue(POOL)}`, '--ignore-not-found']));
  await attempt('samples', () => removeDemoSamples());
  await attempt('netns', async () => nodesimCli(['cleanup', '--state-dir', stateDir, '--nodes', NODES.join(',')]));
}

// --- the steps -------------------------------------------------------------------------------------

async function podsWithIp(): Promise<PodList['items']> {
  const list = JSON.parse(await kubectl(['get', 'pods', '-n', NS, '-l', `app=${APP}`, '-o', 'json'])) as PodList;
  return list.items;
}

/** `kubectl get spiderippool <pool>` and its ALLOCATED-IP-COUNT / FREE cells. */
async function poolRow(): Promise<{ table: string; allocated: string; free: string }> {
  const table = await kubectl(['get', 'spiderippool', POOL]);
  const [header = '', row = ''] = table.split('\n');
  const cols = [...header.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index }));
  const cell = (name: string): string => {
    const i = cols.findIndex((c) => c.name === name);
    return i < 0 ? `(no ${name})` : row.slice(cols[i]!.at, cols[i + 1]?.at ?? row.length).trim();
  };
  return { table, allocated: cell('ALLOCATED-IP-COUNT'), free: cell('FREE') };
}

async function waitPoolAllocated(n: number): Promise<string> {
  const r = await wait(
    `kubectl get spiderippool ${POOL} to show ALLOCATED-IP-COUNT ${n}`,
    async () => {
      const row = await poolRow();
      return { ok: row.allocated === String(n), value: row.table, detail: `ALLOCATED-IP-COUNT ${row.allocated}, FREE ${row.free}` };
    },
    60_000,
  );
  return r;
}

async function main(): Promise<void> {
  step('local control plane (a cold machine builds Kubernetes first: ~15-20 min, with progress)');
  const startedCluster = !(await isClusterReady());
  await ensureCluster({ progress: true });
  const version = JSON.parse(await kubectl(['get', '--raw', '/version'])) as { gitVersion: string };
  show(`kube-apiserver ${version.gitVersion}, kubeconfig ${kubeconfigPath}${startedCluster ? ' (started by the demo)' : ' (already running)'}`);

  step('leftovers of an earlier run');
  const killed = killLeftoverProcesses();
  const problems: string[] = [];
  await removeDemoObjects((p) => problems.push(p));
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  show(`${killed} leftover process(es) ended; the demo namespace, nodes, pool, blocks and netns removed if present${problems.length ? `\n(not removed: ${problems.join('; ')})` : ''}`);

  step('our CRDs, and a SpiderSubnet + SpiderIPPool as users see them (kubectl get ss,sp -o wide)');
  const crds = (await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=spiderpool-ts-up', '-k', join(repoRoot, 'crds'), '-o', 'name'])).trim().split('\n');
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...crds], { timeoutMs: 70_000 });
  show(`${crds.length} CRDs Established: ${crds.map((c) => c.replace('customresourcedefinition.apiextensions.k8s.io/', '')).join(', ')}`);
  await kubectl(['apply', '-f', '-'], { input: resources });
  show(await kubectl(['get', 'ss,sp', '-o', 'wide']));

  step('build the CNI shim (npm run build -w ipam-plugin: esbuild bundle -> Node single executable)');
  const tBuild = Date.now();
  process.stdout.write('    building ...\n');
  buildShimInto(cniBin);
  const size = statSync(join(cniBin, SHIM)).size / 1e6;
  show(`built ${SHIM} (${size.toFixed(0)} MB) in ${((Date.now() - tBuild) / 1000).toFixed(1)} s -> ${cniBin}/ next to macvlan, loopback`);

  step('start the operator (certificates from its CA code, Lease, allocator, TLS gRPC)');
  await writePki(certDir, { caName: 'spiderpool-ts demo CA', dnsName: 'spiderpool-ts-operator.demo', nodes: NODES });
  await kubectl(['create', 'namespace', NS]);
  const grpcPort = await freePort();
  const healthPort = await freePort();
  operator = new OperatorProcess(operatorEnv({ kubeconfig: kubeconfigPath, podName: 'demo-operator', namespace: NS, certDir, grpcPort, healthPort }), operatorLog);
  const operatorStart = operator.start(90_000);
  recordPids();
  await operatorStart;
  relayServer = await startOperatorRelay(opSocket, grpcPort);
  // The Lease identity is <pod>@<gRPC advertise address> (where followers and shims find the leader).
  const me = `demo-operator@127.0.0.1:${grpcPort}`;
  // /readyz is 200 for a healthy follower too, possibly before the first election round wrote the
  // Lease: wait (bounded) for the Lease to name us instead of reading it once.
  const holder = await wait(
    `Lease ${NS}/spiderpool-ts-operator held by ${me}`,
    async () => {
      const h = (await kubectl(['get', 'lease', 'spiderpool-ts-operator', '-n', NS, '--ignore-not-found', '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
      return { ok: h === me, value: h, detail: h || '(no Lease yet)' };
    },
    30_000,
    250,
  ).catch(() => '');
  show(`/readyz 200 on :${healthPort}, gRPC (mTLS) on 127.0.0.1:${grpcPort}\nLease ${NS}/spiderpool-ts-operator held by ${holder || '(nobody)'}: ${holder === me ? 'leading' : 'NOT leading'}`);
  if (holder !== me) throw new Error(`the operator does not hold its Lease (holder: ${holder || 'none'}) ${logHint}`);

  step(`${NODES.length} simulated nodes: macvlan + our shim (${SHIM}) in network namespaces`);
  const conflist = writeShimConflist(join(WORK, 'conflist.json'), { network: 'demo-macvlan', certDir, relayPort: RELAY_PORT });
  sim = new NodesimProcess(
    [
      '--kubeconfig', kubeconfigPath,
      '--nodes', NODES.map((n, i) => `${n}=${NODE_INDEX + i}`).join(','),
      '--mode', 'netns',
      '--label', `${LABEL}=true`,
      '--taint', `${LABEL}=true:NoSchedule`,
      '--cni-config', conflist,
      '--cni-path', cniBin,
      '--state-dir', stateDir,
    ],
    nodesimLog,
  );
  const simStart = sim.start(90_000);
  recordPids();
  await simStart;
  for (const n of NODES) {
    relays.push(await startNodeRelay(n, RELAY_PORT, opSocket, join(WORK, `relay-${n}.log`)));
    recordPids();
  }
  await wait(
    `the ${NODES.length} demo nodes Ready`,
    async () => {
      const out = await kubectl(['get', 'nodes', '-l', `${LABEL}=true`, '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
      const ready = out.split('\n').filter((s) => s === 'True').length;
      return { ok: ready === NODES.length, detail: `${ready}/${NODES.length} Ready` };
    },
    90_000,
  );
  show(await kubectl(['get', 'nodes', '-l', `${LABEL}=true`, '-o', 'wide']));

  // A first /metrics sample before the rollout: the time-to-exhaustion estimate needs a before and an after.
  await fetch(`http://127.0.0.1:${healthPort}/metrics`);
  step(`a Deployment of ${REPLICAS} replicas annotated ipam.spidernet.io/ippool: {"ipv4":["${POOL}"]}`);
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(deployment) });
  let lastShown = -1;
  const pods = await wait(
    `all ${REPLICAS} demo pods Running with distinct IPs`,
    async () => {
      const items = (await podsWithIp()).filter((p) => !p.metadata.deletionTimestamp);
      const running = items.filter((p) => p.status.phase === 'Running' && p.status.podIP);
      const ips = new Set(running.map((p) => p.status.podIP));
      if (running.length !== lastShown) process.stdout.write(`    ${elapsed()} ${running.length}/${REPLICAS} Running\n`);
      lastShown = running.length;
      return { ok: items.length === REPLICAS && running.length === REPLICAS && ips.size === REPLICAS, value: running, detail: `${running.length}/${REPLICAS} Running, ${ips.size} distinct IPs` };
    },
    180_000,
  );
  show(await kubectl(['get', 'pods', '-n', NS, '-o', 'wide']));

  step('each address, as configured inside its pod network namespace (ip -n <netns> addr show eth0)');
  const byUid = new Map(pods.map((p) => [p.metadata.uid, p]));
  const sandboxes = listAllSandboxes(stateDir).filter((s) => byUid.has(s.podUid));
  for (const p of pods) {
    const sb = sandboxes.find((s) => s.podUid === p.metadata.uid);
    if (!sb) throw new Error(`no sandbox record for ${p.metadata.name} in ${stateDir}`);
    const links = JSON.parse(execFileSync('ip', ['-n', sb.netns, '-j', 'addr', 'show', 'dev', sb.ifName], { encoding: 'utf8' })) as Array<{
      addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
    }>;
    const inet = links.flatMap((l) => l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
    const match = inet.length === 1 && inet[0] === `${p.status.podIP}/24`;
    show(`${p.metadata.name.padEnd(22)} ${sb.node.padEnd(7)} ${sb.netns.padEnd(34)} ${inet.join(', ').padEnd(17)} ${match ? 'ok' : `MISMATCH (podIP ${p.status.podIP})`}`);
    if (!match) throw new Error(`${p.metadata.name}: netns ${sb.netns} has ${inet.join(', ') || 'no IPv4'}, podIP ${p.status.podIP}`);
  }
  show(`${new Set(pods.map((p) => p.status.podIP)).size} distinct pool addresses for ${pods.length} pods`);

  step(`the pool and the endpoints follow (kubectl get sp ${POOL}; kubectl get spiderendpoints -n ${NS})`);
  show(await waitPoolAllocated(REPLICAS));
  const endpoints = await wait(
    `${REPLICAS} SpiderEndpoints in ${NS}`,
    async () => {
      const out = await kubectl(['get', 'spiderendpoints', '-n', NS]);
      const n = out.trim().split('\n').length - 1;
      return { ok: n === REPLICAS, value: out, detail: `${n} endpoints` };
    },
    60_000,
  );
  show(endpoints);

  step(`a few of the operator's metrics (GET http://127.0.0.1:${healthPort}/metrics; reference: docs/metrics.md)`);
  show(metricsExcerpt(await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text(), POOL));

  step('scale to 0: every address goes back to the pool');
  await kubectl(['scale', `deployment/${APP}`, '-n', NS, '--replicas=0']);
  await wait(
    'every demo pod gone after scaling to 0',
    async () => {
      const n = (await podsWithIp()).length;
      return { ok: n === 0, detail: `${n} pods left` };
    },
    90_000,
  );
  show(await waitPoolAllocated(0));
  const leftEndpoints = await wait(
    `no SpiderEndpoints left in ${NS}`,
    async () => {
      const out = await kubectl(['get', 'spiderendpoints', '-n', NS, '-o', 'name']);
      const n = out.trim() ? out.trim().split('\n').length : 0;
      return { ok: n === 0, value: n, detail: `${n} left` };
    },
    60_000,
  );
  show(`${leftEndpoints} SpiderEndpoints left in ${NS}`);

  step(`the shipped samples (config/samples: ${SAMPLE_SUBNET}, its pool, the annotated ${SAMPLE_APP}) moved into the demo network, and ${SAMPLE_AUTO_APP}: the same Deployment annotated ipam.spidernet.io/subnet, which gets an auto pool of its own`);
  const samples = await demoSamples(NS, { nodeSelector: deployment.spec.template.spec.nodeSelector, tolerations: deployment.spec.template.spec.tolerations });
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: samples }) });
  const sampleReplicas = samples.filter((o) => o.kind === 'Deployment').reduce((n, o) => n + Number(o.spec.replicas ?? 1), 0);
  const selector = `app in (${SAMPLE_APP},${SAMPLE_AUTO_APP})`;
  let sampleShown = -1;
  await wait(
    `all ${sampleReplicas} sample pods Running with distinct IPs`,
    async () => {
      const items = (JSON.parse(await kubectl(['get', 'pods', '-n', NS, '-l', selector, '-o', 'json'])) as PodList).items.filter((p) => !p.metadata.deletionTimestamp);
      const running = items.filter((p) => p.status.phase === 'Running' && p.status.podIP);
      const ips = new Set(running.map((p) => p.status.podIP));
      if (running.length !== sampleShown) process.stdout.write(`    ${elapsed()} ${running.length}/${sampleReplicas} Running\n`);
      sampleShown = running.length;
      return { ok: running.length === sampleReplicas && ips.size === sampleReplicas, detail: `${running.length}/${sampleReplicas} Running, ${ips.size} distinct IPs` };
    },
    180_000,
  );
  show(await kubectl(['get', 'pods', '-n', NS, '-l', selector, '-o', 'wide']));
  show(await kubectl(['get', 'spidersubnet,spiderippool']));
  show(await kubectl(['get', 'spiderendpoints', '-n', NS]));

  await teardown(startedCluster && !values['keep-cluster'] ? 'stop' : startedCluster ? 'kept' : 'was-up');
  rmSync(WORK, { recursive: true, force: true });
  step('done');
}

/** cluster: 'stop' the control plane the demo started, or leave it ('kept' by --keep-cluster, 'was-up' before the demo, 'failed' run). */
async function teardown(cluster: 'stop' | 'kept' | 'was-up' | 'failed'): Promise<void> {
  step('teardown: operator, simulated nodes, namespace, pool, blocks, netns');
  const problems: string[] = [];
  for (const r of relays) r.kill('SIGKILL');
  await sim?.stop(20_000).catch((e: Error) => problems.push(`nodesim: ${e.message}`));
  await operator?.stop(20_000).catch((e: Error) => problems.push(`operator: ${e.message}`));
  relayServer?.close();
  await removeDemoObjects((p) => problems.push(p));
  rmSync(pidFile, { force: true });
  show(problems.length ? `left behind (the next run removes them): ${problems.join('; ')}` : 'all removed');
  if (cluster === 'stop') {
    step('stopping the control plane the demo started (--keep-cluster keeps it)');
    execFileSync(join(repoRoot, 'hack/controlplane/down.sh'), { stdio: 'inherit' });
  } else {
    const why = { kept: '--keep-cluster', 'was-up': 'it was up before the demo', failed: 'to look at the failure' }[cluster];
    show(`control plane left running (${why})`);
  }
}

main().catch(async (err: unknown) => {
  process.stderr.write(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  if (operator) process.stderr.write(`operator log tail:\n${tail(operatorLog, 8)}\n`);
  // Keep the cluster and the logs in the work dir (to look at what failed); the rest goes.
  await teardown('failed').catch((e: Error) => process.stderr.write(`teardown failed: ${e.message}\n`));
  process.exit(1);
});
