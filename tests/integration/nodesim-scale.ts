// Scale run of the node simulator in IPAM-only mode (BENCHMARK.md "create" and "delete" phases
// for one IPAM): N simulated nodes, D Deployments x R replicas; times until every pod is Running
// (observed by watch) and until every pod is gone, pods/second, pod startup latency, the
// simulator's CNI ADD latency, and correctness (distinct IPs, no allocation left).
//
//   npm run nodesim:scale -- [--nodes 10] [--deployments 100] [--replicas 10]
//                            [--cni-config tests/nodesim/examples/host-local-ipam-only.conflist]
//                            [--mode ipam-only|netns] [--timeout 1200] [--keep]
import type { V1Pod } from '@kubernetes/client-node';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureCluster } from '../support/cluster.js';
import { percentile } from '../nodesim/metrics.js';
import { NodesimProcess, repoRoot } from './helpers/nodesim-process.js';
import { waitFor } from './helpers/wait.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10' },
    deployments: { type: 'string', default: '100' },
    replicas: { type: 'string', default: '10' },
    'cni-config': { type: 'string', default: 'tests/nodesim/examples/host-local-ipam-only.conflist' },
    mode: { type: 'string', default: 'ipam-only' },
    timeout: { type: 'string', default: '1200' },
    workers: { type: 'string', default: '16' },
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(values.nodes);
const D = Number(values.deployments);
const R = Number(values.replicas);
const TOTAL = D * R;
const TIMEOUT_MS = Number(values.timeout) * 1000;
const RUN = randomBytes(3).toString('hex');
const NS = `nodesim-scale-${RUN}`;
const LABEL = 'spiderpool-ts.io/nodesim-run';
const NODES = Array.from({ length: N }, (_, i) => `scale-${RUN}-${i}`);
const stateDir = mkdtempSync(join(tmpdir(), `spts-nodesim-scale-${RUN}-`));
const say = (msg: string, extra: Record<string, unknown> = {}) => process.stderr.write(`[scale ${new Date().toISOString()}] ${msg} ${Object.keys(extra).length ? JSON.stringify(extra) : ''}\n`);

interface Track {
  created: number;
  running?: number;
  ip?: string;
  gone?: number;
}

async function main(): Promise<void> {
  const { kubeconfigPath } = await ensureCluster();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const coord = kc.makeApiClient(CoordinationV1Api);

  const sim = new NodesimProcess(
    ['--kubeconfig', kubeconfigPath, '--nodes', NODES.join(','), '--mode', String(values.mode), '--cni-config', String(values['cni-config']),
      '--state-dir', stateDir, '--label', `${LABEL}=${RUN}`, '--taint', `${LABEL}=${RUN}:NoSchedule`, '--workers', String(values.workers), '--log-level', 'warn'],
    join(stateDir, 'nodesim.log'),
  );
  const cleanup = async () => {
    await sim.stop(20_000).catch(() => undefined);
    await core.deleteCollectionNamespacedPod({ namespace: NS, gracePeriodSeconds: 0 }).catch(() => undefined);
    await core.deleteNamespace({ name: NS }).catch(() => undefined);
    for (const n of NODES) {
      await core.deleteNode({ name: n }).catch(() => undefined);
      await coord.deleteNamespacedLease({ name: n, namespace: 'kube-node-lease' }).catch(() => undefined);
    }
    execFileSync(process.execPath, ['--disable-warning=DEP0180', '--import', './hack/register-ts.mjs', 'tests/nodesim/main.ts', 'cleanup', '--state-dir', stateDir, '--nodes', NODES.join(','), ...(values.keep ? [] : ['--purge-state'])], { cwd: repoRoot, stdio: 'ignore' });
  };

  try {
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await waitFor('default ServiceAccount', async () => ({ ok: !!(await core.readNamespacedServiceAccount({ name: 'default', namespace: NS }).catch(() => undefined)), detail: 'absent' }), 60_000);
    await sim.start();
    await waitFor(`${N} nodes Ready and untainted`, async () => {
      const nodes = (await core.listNode({ labelSelector: `${LABEL}=${RUN}` })).items;
      const ok = nodes.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !(n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/')));
      return { ok: ok.length === N, detail: `${ok.length}/${N}` };
    }, 120_000);
    say('nodes ready', { nodes: N, mode: values.mode });

    // Track pods by watch: creation -> first Running with an IP (the pod startup SLI) and deletion.
    const pods = new Map<string, Track>();
    let rv = (await core.listNamespacedPod({ namespace: NS })).metadata?.resourceVersion ?? '';
    let stopWatch = false;
    let abort: AbortController | undefined;
    const onPod = (type: string, p: V1Pod) => {
      const uid = p.metadata?.uid;
      if (!uid) return;
      if (p.metadata?.resourceVersion) rv = p.metadata.resourceVersion;
      let t = pods.get(uid);
      if (!t) {
        t = { created: new Date(p.metadata!.creationTimestamp as unknown as string).getTime() };
        pods.set(uid, t);
      }
      if (type === 'DELETED') t.gone ??= Date.now();
      else if (!t.running && p.status?.phase === 'Running' && p.status.podIP) {
        t.running = Date.now();
        t.ip = p.status.podIP;
      }
    };
    const watchLoop = async () => {
      while (!stopWatch) {
        await new Promise<void>((res) => {
          void new Watch(kc)
            .watch(`/api/v1/namespaces/${NS}/pods`, { resourceVersion: rv, allowWatchBookmarks: true }, (type, obj) => {
              if (type === 'BOOKMARK') rv = (obj as V1Pod).metadata?.resourceVersion ?? rv;
              else if (type !== 'ERROR') onPod(type, obj as V1Pod);
            }, () => res())
            .then((ac) => (abort = ac), () => res());
        });
      }
    };
    void watchLoop();
    const progress = setInterval(() => {
      const running = [...pods.values()].filter((t) => t.running && !t.gone).length;
      say('progress', { pods: pods.size, running, gone: [...pods.values()].filter((t) => t.gone).length });
    }, 10_000);

    // Phase "create": D Deployments x R replicas, created 10 at a time.
    const t0 = Date.now();
    const names = Array.from({ length: D }, (_, i) => `app-${i}`);
    for (let i = 0; i < names.length; i += 10) {
      await Promise.all(names.slice(i, i + 10).map((name) => apps.createNamespacedDeployment({
        namespace: NS,
        body: {
          metadata: { name },
          spec: {
            replicas: R,
            selector: { matchLabels: { app: name } },
            template: {
              metadata: { labels: { app: name } },
              spec: { nodeSelector: { [LABEL]: RUN }, tolerations: [{ key: LABEL, operator: 'Equal', value: RUN, effect: 'NoSchedule' }], automountServiceAccountToken: false, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'registry.invalid/spts/pause:3.10' }] },
            },
          },
        },
      })));
    }
    const tCreated = Date.now();
    await waitFor(`${TOTAL} pods Running`, async () => {
      const running = [...pods.values()].filter((t) => t.running && !t.gone).length;
      return { ok: running >= TOTAL, detail: `${running}/${TOTAL} running, ${pods.size} seen` };
    }, TIMEOUT_MS, 250);
    const tRunning = Math.max(...[...pods.values()].map((t) => t.running ?? 0));
    const createSec = (tRunning - t0) / 1000;
    const live = [...pods.values()].filter((t) => t.running && !t.gone);
    const startup = live.map((t) => t.running! - t.created).sort((a, b) => a - b);
    const ips = new Set(live.map((t) => t.ip));
    const summaries = sim.summaries.length;
    process.kill(sim.pid()!, 'SIGUSR1');
    await waitFor('simulator summary', async () => ({ ok: sim.summaries.length > summaries, detail: '' }), 10_000, 100);
    const simSummary = sim.summaries.at(-1)!;

    // Phase "delete": every Deployment, until every pod is gone and no IP is allocated.
    const tDel0 = Date.now();
    await apps.deleteCollectionNamespacedDeployment({ namespace: NS, propagationPolicy: 'Background' });
    await waitFor('every pod gone', async () => {
      const n = (await core.listNamespacedPod({ namespace: NS, limit: 1 })).items.length;
      return { ok: n === 0, detail: `${[...pods.values()].filter((t) => !t.gone).length} left` };
    }, TIMEOUT_MS, 250);
    const deleteSec = (Date.now() - tDel0) / 1000;
    const leftAllocations = NODES.reduce((a, n) => {
      const dir = join(stateDir, 'nodes', n, 'host-local');
      if (!existsSync(dir)) return a;
      return a + readdirSync(dir).flatMap((net) => readdirSync(join(dir, net)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))).length;
    }, 0);
    clearInterval(progress);
    stopWatch = true;
    abort?.abort();

    const result = {
      shape: `${D} Deployments x ${R} replicas on ${N} nodes`,
      mode: values.mode,
      cniConfig: values['cni-config'],
      create: {
        seconds: createSec,
        podsPerSecond: Math.round((TOTAL / createSec) * 10) / 10,
        deploymentsCreatedInSec: (tCreated - t0) / 1000,
        podStartupMs: { p50: percentile(startup, 50), p90: percentile(startup, 90), p99: percentile(startup, 99) },
        distinctIPs: ips.size,
      },
      delete: { seconds: deleteSec, allocationsLeft: leftAllocations },
      simulator: { cniAddMs: simSummary.cniAddMs, addFailures: simSummary.addFailures, syncFailures: simSummary.syncFailures, statusPatches: simSummary.statusPatches },
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    if (ips.size !== TOTAL || leftAllocations !== 0) process.exitCode = 1;
  } finally {
    await cleanup();
  }
  process.exit(process.exitCode ?? 0);
}

main().catch((e: unknown) => {
  process.stderr.write(`nodesim-scale failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
