// The node simulator against the real local control plane (kube-apiserver, etcd, controller manager,
// scheduler): Deployment pods reach Running with IPs that really sit in their netns, survive a node
// power-off/on with fresh sandboxes, and leave nothing behind when deleted; CNI failures surface as
// kubelet-style Events and are retried.
import type { V1Pod } from '@kubernetes/client-node';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listAllSandboxes } from '../nodesim/sandboxes.js';
import { listNetns, nodeNetns, podNetnsPrefix } from '../nodesim/netns.js';
import { ensureCluster } from '../support/cluster.js';
import { NodesimProcess, repoRoot } from './helpers/nodesim-process.js';
import { containerId, ipv4InNetns, isReady } from './helpers/pods.js';
import { waitFor } from './helpers/wait.js';

const RUN = randomBytes(3).toString('hex');
const NODES = [0, 1, 2].map((i) => `nsim-${RUN}-${i}`);
const BAD_NODE = `nsim-${RUN}-x`;
const BAD_INDEX = 200; // its /30 range holds a single pod IP: 198.18.200.2
const NAMESPACE = `nodesim-${RUN}`;
const RUN_LABEL = 'spiderpool-ts.io/nodesim-run';
const APP = 'nodesim-e2e';
const REPLICAS = 10;
const NETWORK = 'spts-macvlan';
const IMAGE = 'registry.invalid/spts/pause:3.10'; // never pulled: there is no container runtime
// Waiting for the node-lifecycle controller to notice the power-off costs ~1 min; NODESIM_TEST_FAST=1 skips it.
const WAIT_NODE_LIFECYCLE = process.env.NODESIM_TEST_FAST !== '1';

const stateDir = mkdtempSync(join(tmpdir(), `spts-nodesim-${RUN}-`));
let core: CoreV1Api;
let apps: AppsV1Api;
let coord: CoordinationV1Api;
let kubeconfig = '';
const sims: NodesimProcess[] = [];
const TESTS = 6;
let completed = 0; // tests that reached their end; the state dir (logs) is kept unless all did

// ---------------------------------------------------------------------------------------------

function simArgs(nodes: string, cniConfig: string, extra: string[] = []): string[] {
  return [
    '--kubeconfig', kubeconfig,
    '--nodes', nodes,
    '--mode', 'netns',
    '--cni-config', cniConfig,
    '--state-dir', stateDir,
    '--label', `${RUN_LABEL}=${RUN}`,
    // The cluster is shared: keep everyone else's pods off these nodes.
    '--taint', `${RUN_LABEL}=${RUN}:NoSchedule`,
    '--heartbeat', '5',
    '--retry-base', '500',
    '--retry-max', '2000',
    ...extra,
  ];
}

const hostLocalDir = (node: string): string => join(stateDir, 'nodes', node, 'host-local', NETWORK);

/** host-local's allocations in a node's dataDir: IP-named files -> content (container id, ifname). */
function allocations(node: string): Map<string, string> {
  const out = new Map<string, string>();
  const dir = hostLocalDir(node);
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir)) {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(f) || f.includes(':')) out.set(f, readFileSync(join(dir, f), 'utf8'));
  }
  return out;
}

const ourNetns = (nodes: string[]): string[] =>
  listNetns().filter((ns) => nodes.some((n) => ns === nodeNetns(n) || ns.startsWith(podNetnsPrefix(n))));
const podNetnsOf = (nodes: string[]): string[] => listNetns().filter((ns) => nodes.some((n) => ns.startsWith(podNetnsPrefix(n))));


async function appPods(): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app=${APP}` })).items;
}

interface Seen {
  uid: string;
  name: string;
  node: string;
  ip: string;
  containerID: string;
  sandboxId: string;
  netns: string;
}

/** Waits for all replicas Running+Ready with distinct IPs, each matched to its sandbox record. */
async function waitAllRunning(what: string, accept: (p: V1Pod, sandboxId: string) => boolean, timeoutMs: number): Promise<Seen[]> {
  return waitFor<Seen[]>(
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
        if (p.status?.phase !== 'Running' || !isReady(p) || !p.status.podIP || !rec || !accept(p, rec.sandboxId)) {
          notYet.push(`${p.metadata!.name}:${p.status?.phase}/ready=${isReady(p)}/ip=${p.status?.podIP ?? '-'}/records=${recs.length}`);
          continue;
        }
        seen.push({ uid, name: p.metadata!.name!, node: p.spec!.nodeName!, ip: p.status.podIP, containerID: containerId(p), sandboxId: rec.sandboxId, netns: rec.netns });
      }
      const ips = new Set(seen.map((s) => s.ip));
      const ok = pods.length === REPLICAS && seen.length === REPLICAS && ips.size === REPLICAS;
      return { ok, value: seen, detail: `${pods.length} pods, ${seen.length} ready, ${ips.size} distinct IPs; pending: ${notYet.slice(0, 5).join(', ') || 'none'}` };
    },
    timeoutMs,
    1000,
  );
}

/** Every pod's IP is on eth0 inside its own netns, and in its node's 198.18.<index>.0/24. */
function assertIPsInNetns(seen: Seen[]): void {
  for (const s of seen) {
    expect(existsSync(`/run/netns/${s.netns}`)).toBe(true);
    expect(ipv4InNetns(s.netns)).toEqual([s.ip]);
    const index = NODES.indexOf(s.node);
    expect(index).toBeGreaterThanOrEqual(0);
    expect(s.ip.startsWith(`198.18.${index}.`)).toBe(true);
    expect(s.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
  }
}

function writeConfig(name: string, subnet: string): string {
  const file = join(stateDir, name);
  const conf = {
    cniVersion: '1.0.0',
    name: NETWORK,
    plugins: [
      {
        type: 'macvlan',
        master: 'eth0',
        mode: 'bridge',
        ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir: '${NODE_STATE_DIR}/host-local' },
      },
    ],
  };
  writeFileSync(file, JSON.stringify(conf, null, 2));
  return file;
}

async function waitNodesReady(nodes: string[], timeoutMs: number): Promise<void> {
  await waitFor(
    `nodes ${nodes.join(',')} Ready without the not-ready taint`,
    async () => {
      const items = (await core.listNode({ labelSelector: `${RUN_LABEL}=${RUN}` })).items.filter((n) => nodes.includes(n.metadata!.name!));
      const ready = items.filter(
        (n) =>
          n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
          !(n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/')),
      );
      return { ok: ready.length === nodes.length, detail: `${ready.length}/${nodes.length} ready: ${JSON.stringify(items.map((n) => [n.metadata?.name, n.spec?.taints?.map((t) => t.key)]))}` };
    },
    timeoutMs,
  );
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  const cluster = await ensureCluster({ timeoutMs: 45 * 60_000 });
  kubeconfig = cluster.kubeconfigPath;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  coord = kc.makeApiClient(CoordinationV1Api);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  // Pods need the namespace's default ServiceAccount (made by the controller manager).
  await waitFor('default ServiceAccount', async () => {
    const sa = await core.readNamespacedServiceAccount({ name: 'default', namespace: NAMESPACE }).catch(() => undefined);
    return { ok: !!sa, detail: 'absent' };
  }, 60_000);
}, 46 * 60_000);

afterAll(async () => {
  for (const s of sims) await s.stop(15_000).catch(() => undefined);
  if (core) {
    // Pods still there (a failed step) are removed without their nodes' help, then everything of ours.
    await core.deleteCollectionNamespacedPod({ namespace: NAMESPACE, gracePeriodSeconds: 0 }).catch(() => undefined);
    await core.deleteNamespace({ name: NAMESPACE }).catch(() => undefined);
    for (const n of [...NODES, BAD_NODE]) {
      await core.deleteNode({ name: n }).catch(() => undefined);
      await coord.deleteNamespacedLease({ name: n, namespace: 'kube-node-lease' }).catch(() => undefined);
    }
  }
  const purge = completed === TESTS;
  execFileSync(process.execPath, ['--disable-warning=DEP0180', '--import', './hack/register-ts.mjs', 'tests/nodesim/main.ts', 'cleanup', '--state-dir', stateDir, '--nodes', [...NODES, BAD_NODE].join(','), ...(purge ? ['--purge-state'] : [])], {
    cwd: repoRoot,
    stdio: 'ignore',
  });
  if (!purge) process.stderr.write(`nodesim test: kept ${stateDir} (simulator logs nodesim*.log, sandbox records, host-local dataDirs)\n`);
}, 120_000);

describe('node simulator on the real control plane', () => {
  let sim: NodesimProcess;
  let first: Seen[] = [];
  let afterCycle: Seen[] = [];

  test('3 nodes register, heartbeat and become Ready', async () => {
    const cfg = writeConfig('macvlan-host-local.json', '198.18.${NODE_INDEX}.0/24');
    sim = new NodesimProcess(simArgs(NODES.join(','), cfg), join(stateDir, 'nodesim.log'));
    sims.push(sim);
    await sim.start();
    await waitNodesReady(NODES, 90_000);
    for (const n of NODES) {
      const lease = await coord.readNamespacedLease({ name: n, namespace: 'kube-node-lease' });
      expect(lease.spec?.holderIdentity).toBe(n);
      expect(lease.metadata?.ownerReferences?.[0]?.kind).toBe('Node');
      const node = await core.readNode({ name: n });
      expect(node.status?.capacity?.pods).toBe('250');
      expect(node.metadata?.labels?.['kubernetes.io/hostname']).toBe(n);
      expect(node.metadata?.labels?.['node.kubernetes.io/instance-type']).toBe('spts-simulated');
    }
    completed++;
  }, 120_000);

  test('a Deployment of 10 reaches Running with 10 distinct IPs, each configured in its pod netns', async () => {
    await apps.createNamespacedDeployment({
      namespace: NAMESPACE,
      body: {
        metadata: { name: APP, namespace: NAMESPACE },
        spec: {
          replicas: REPLICAS,
          selector: { matchLabels: { app: APP } },
          template: {
            metadata: { labels: { app: APP } },
            spec: {
              nodeSelector: { [RUN_LABEL]: RUN },
              tolerations: [{ key: RUN_LABEL, operator: 'Equal', value: RUN, effect: 'NoSchedule' }],
              automountServiceAccountToken: false,
              terminationGracePeriodSeconds: 5,
              topologySpreadConstraints: [
                { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: APP } } },
              ],
              containers: [{ name: 'app', image: IMAGE }],
            },
          },
        },
      },
    });
    first = await waitAllRunning('10 replicas Running with distinct IPs', () => true, 120_000);
    assertIPsInNetns(first);
    // spread over the 3 nodes (3/3/4); host-local saw CNI_CONTAINERID = the sandbox id
    const perNode = NODES.map((n) => first.filter((s) => s.node === n).length);
    expect(perNode.every((c) => c === 3 || c === 4)).toBe(true);
    for (const s of first) expect(allocations(s.node).get(s.ip)).toContain(s.sandboxId);
    expect(NODES.reduce((a, n) => a + allocations(n).size, 0)).toBe(REPLICAS);
    completed++;
  }, 150_000);

  test('power off (SIGKILL), node-lifecycle marks nodes and pods NotReady, power on: every pod Running again with a new sandbox and its IP in the new netns', async () => {
    const exit = await sim.powerOff();
    expect(exit.signal).toBe('SIGKILL');
    // Sandboxes died with the machine, but their netns mounts and IPAM state are still on disk.
    for (const s of first) expect(existsSync(`/run/netns/${s.netns}`)).toBe(true);
    if (WAIT_NODE_LIFECYCLE) {
      // No more Lease renewals: the real node-lifecycle controller (node-monitor-grace-period, 50 s
      // by default) marks the nodes Unknown, taints them unreachable and the pods not Ready.
      await waitFor(
        'the node-lifecycle controller to mark the powered-off nodes Ready=Unknown and their pods not Ready',
        async () => {
          const nodes = (await core.listNode({ labelSelector: `${RUN_LABEL}=${RUN}` })).items.filter((n) => NODES.includes(n.metadata!.name!));
          const unknown = nodes.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'Unknown'));
          const tainted = nodes.filter((n) => n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable'));
          const notReady = (await appPods()).filter((p) => !isReady(p));
          return {
            ok: unknown.length === NODES.length && tainted.length === NODES.length && notReady.length === REPLICAS,
            detail: `${unknown.length} nodes Unknown, ${tainted.length} tainted unreachable, ${notReady.length} pods not Ready`,
          };
        },
        150_000,
        2000,
      );
    }
    await sim.start();
    const before = new Map(first.map((s) => [s.uid, s]));
    afterCycle = await waitAllRunning(
      'all 10 pods Running again with new container ids after power-on',
      (p, sandboxId) => {
        const old = before.get(p.metadata!.uid!);
        return !!old && containerId(p) !== old.containerID && sandboxId !== old.sandboxId;
      },
      120_000,
    );
    // Same pods (nothing evicted or replaced), fresh sandboxes, IPs live in the new namespaces.
    expect(new Set(afterCycle.map((s) => s.uid))).toEqual(new Set(first.map((s) => s.uid)));
    assertIPsInNetns(afterCycle);
    for (const s of first) expect(existsSync(`/run/netns/${s.netns}`)).toBe(false);
    // The dead sandboxes were released (CNI DEL with their old container id): only the new ones hold IPs.
    expect(NODES.reduce((a, n) => a + allocations(n).size, 0)).toBe(REPLICAS);
    for (const s of afterCycle) expect(allocations(s.node).get(s.ip)).toContain(s.sandboxId);
    const pod = (await appPods())[0]!;
    expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(1);
    // Heartbeats again: the controller lifts Unknown and the unreachable taints.
    await waitNodesReady(NODES, 90_000);
    completed++;
  }, 330_000);

  test('deleting the Deployment removes every pod, netns and IPAM allocation', async () => {
    await apps.deleteNamespacedDeployment({ name: APP, namespace: NAMESPACE, propagationPolicy: 'Background' });
    await waitFor(
      'every pod of the Deployment gone',
      async () => {
        const pods = await appPods();
        return { ok: pods.length === 0, detail: `${pods.length} left: ${pods.map((p) => `${p.metadata?.name}${p.metadata?.deletionTimestamp ? '(terminating)' : ''}`).join(', ')}` };
      },
      120_000,
    );
    expect(podNetnsOf(NODES)).toEqual([]);
    expect(listAllSandboxes(stateDir).filter((r) => NODES.includes(r.node))).toEqual([]);
    for (const n of NODES) expect([...allocations(n).keys()]).toEqual([]);
    completed++;
  }, 150_000);

  test('a stopped simulator leaves no network namespace of ours behind', async () => {
    const exit = await sim.stop();
    expect(exit.code).toBe(0);
    expect(ourNetns(NODES)).toEqual([]);
    const summary = sim.summaries.at(-1)!;
    expect(summary.podsFinalized).toBe(REPLICAS);
    if (!listNetns().some((ns) => ns.startsWith('spts-node-'))) expect(listNetns()).not.toContain('spts-switch');
    completed++;
  }, 60_000);

  test('IPAM exhaustion: FailedCreatePodSandBox event, retries with backoff, recovery once an IP is released', async () => {
    // One node whose range holds a single pod IP (198.18.200.2/30, .1 being the gateway).
    const cfg = writeConfig('tiny.json', `198.18.${BAD_INDEX}.0/30`);
    const bad = new NodesimProcess(simArgs(`${BAD_NODE}=${BAD_INDEX}`, cfg), join(stateDir, 'nodesim-tiny.log'));
    sims.push(bad);
    await bad.start();
    await waitNodesReady([BAD_NODE], 90_000);
    const mkPod = (name: string) =>
      core.createNamespacedPod({
        namespace: NAMESPACE,
        body: {
          metadata: { name, labels: { app: 'tiny' } },
          spec: { nodeName: BAD_NODE, automountServiceAccountToken: false, containers: [{ name: 'app', image: IMAGE }] },
        },
      });
    const readPod = (name: string) => core.readNamespacedPod({ name, namespace: NAMESPACE });
    const runningIP = (name: string) =>
      waitFor<string>(`${name} Running`, async () => {
        const p = await readPod(name);
        return { ok: p.status?.phase === 'Running' && !!p.status.podIP, value: p.status?.podIP ?? '', detail: `${p.status?.phase}` };
      }, 60_000);
    const failedEvent = (uid: string) =>
      waitFor<string>('a FailedCreatePodSandBox Warning event', async () => {
        const ev = (await core.listNamespacedEvent({ namespace: NAMESPACE, fieldSelector: `involvedObject.uid=${uid},reason=FailedCreatePodSandBox` })).items;
        return { ok: ev.length > 0, value: `${ev[0]?.type}|${ev[0]?.message}|${ev[0]?.source?.component}`, detail: `${ev.length} events` };
      }, 60_000);

    await mkPod('tiny-a');
    expect(await runningIP('tiny-a')).toBe(`198.18.${BAD_INDEX}.2`);

    const b = await mkPod('tiny-b');
    const [type, message, component] = (await failedEvent(b.metadata!.uid!)).split('|');
    expect(type).toBe('Warning');
    expect(component).toBe('kubelet');
    expect(message).toMatch(/^Failed to create pod sandbox: failed to setup network for sandbox "[0-9a-f]{64}": plugin type="macvlan" failed \(add\): failed to allocate for range 0: no IP addresses available/);
    expect((await readPod('tiny-b')).status?.phase).toBe('Pending');

    // A pod deleted before it ever got a sandbox is still finalised by its node.
    await mkPod('tiny-c');
    await core.deleteNamespacedPod({ name: 'tiny-c', namespace: NAMESPACE });
    await waitFor('tiny-c finalised', async () => {
      const p = await readPod('tiny-c').catch(() => undefined);
      return { ok: !p, detail: p ? `phase ${p.status?.phase}, deleting=${!!p.metadata?.deletionTimestamp}` : 'gone' };
    }, 30_000);

    // Releasing tiny-a's IP (CNI DEL on deletion) lets tiny-b's retries succeed with that same IP.
    await core.deleteNamespacedPod({ name: 'tiny-a', namespace: NAMESPACE });
    expect(await runningIP('tiny-b')).toBe(`198.18.${BAD_INDEX}.2`);

    await core.deleteNamespacedPod({ name: 'tiny-b', namespace: NAMESPACE });
    await waitFor('tiny pods gone', async () => {
      const n = (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app=tiny' })).items.length;
      return { ok: n === 0, detail: `${n} left` };
    }, 30_000);
    expect([...allocations(BAD_NODE).keys()]).toEqual([]);
    expect((await bad.stop()).code).toBe(0);
    expect(ourNetns([BAD_NODE])).toEqual([]);
    const summary = bad.summaries.at(-1)!;
    expect(summary.addFailures as number).toBeGreaterThan(0);
    completed++;
  }, 240_000);
});
