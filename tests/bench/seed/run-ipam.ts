// One IPAM through the seed's four phases on fresh simulated nodes and a fresh namespace:
//   create    Deployments created; until every pod is Running with its IPs;
//   rebuild   every pod deleted at once; until as many new pods are Running;
//   recovery  the simulator process SIGKILLed (power off: no CNI DEL) and started again on the same
//             state dir after --off-seconds (power on); until every pod is Running again (new sandbox);
//   delete    every Deployment deleted; until no pod is left and the IPAM holds no address.
// After create/rebuild/recovery the phase "settles": the IPAM's addresses are polled until none is
// held by no live pod (or the settle timeout), then duplicates/leaks/pods without IP are counted.
import { AppsV1Api, CoordinationV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { percentile } from '../../nodesim/metrics.js';
import { NodesimProcess, repoRoot } from '../../integration/helpers/nodesim-process.js';
import { waitFor } from '../../integration/helpers/wait.js';
import type { BenchIpam, BenchNode, IpamContext, PreparedIpam } from './ipam.js';
import { controlPlanePids, cpuByComponent, snapshotCpu } from './cpu-accounting.js';
import { nodePodCapacity, type Scenario, totalPods } from './scenario.js';
import { PodTracker } from './tracker.js';

export type PhaseName = 'create' | 'rebuild' | 'recovery' | 'delete';

export interface PhaseResult {
  phase: PhaseName;
  ok: boolean;
  error?: string;
  /** Time to the phase's condition (s); null when it was not reached. */
  seconds: number | null;
  /** [seconds since phase start, pods Running (this phase's incarnations; delete: pods left)]. */
  runningOverTime: Array<[number, number]>;
  podStartupMs: { p50: number | null; p90: number | null; p99: number | null; count: number } | null;
  cniAddMs: { p50: number | null; p99: number | null; count: number } | null;
  failures: number | null;
  retries: number | null;
  duplicateIPs: number;
  leakedIPs: number | null;
  podsWithoutIP: number;
  settleSeconds: number | null;
  checkerFindings?: { count: number; kinds: Record<string, number> };
  /** CPU seconds per component from the phase's start to its condition (cpu-accounting.ts). */
  cpuSeconds?: Record<string, number>;
  extra: Record<string, unknown>;
}

export interface IpamRun {
  ipam: string;
  namespace: string;
  workDir: string;
  phases: PhaseResult[];
  error?: string;
}

export interface RunOptions {
  scenario: Scenario;
  kubeconfig: string;
  run: string;
  outDir: string;
  phaseTimeoutMs: number;
  settleMs: number;
  offSeconds: number;
  workers: number;
  say: (msg: string, extra?: Record<string, unknown>) => void;
}

const LABEL = 'spiderpool-ts.io/bench-run';
const IMAGE = 'registry.invalid/spts/pause:3.10';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// SIGINT/SIGTERM (main.ts): the running phase stops waiting, the rest is skipped, cleanup runs.
let aborted = false;
export function requestAbort(): void {
  aborted = true;
}
export const isAborted = (): boolean => aborted;

export async function runIpam(ipam: BenchIpam, o: RunOptions): Promise<IpamRun> {
  const s = o.scenario;
  const TOTAL = totalPods(s);
  const id = `${o.run}-${ipam.name.replace(/[^a-z0-9]/g, '').slice(0, 12)}`;
  const namespace = `bench-${id}`;
  const workDir = join(o.outDir, ipam.name);
  const stateDir = join(workDir, 'nodesim-state');
  mkdirSync(stateDir, { recursive: true });
  const nodes: BenchNode[] = Array.from({ length: s.nodes }, (_, i) => ({ name: `bench-${id}-${i}`, index: 200 + i }));
  const say = (msg: string, extra: Record<string, unknown> = {}) => o.say(`[${ipam.name}] ${msg}`, extra);
  const result: IpamRun = { ipam: ipam.name, namespace, workDir, phases: [] };

  const kc = new KubeConfig();
  kc.loadFromFile(o.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const coord = kc.makeApiClient(CoordinationV1Api);
  const controlPlane = controlPlanePids(dirname(o.kubeconfig));
  const ctx: IpamContext = { scenario: s, workDir, stateDir, kubeconfig: o.kubeconfig, namespace, run: id, nodes, say };

  let prepared: PreparedIpam | undefined;
  let sim: NodesimProcess | undefined;
  let tracker: PodTracker | undefined;
  try {
    await core.createNamespace({ body: { metadata: { name: namespace, labels: { [LABEL]: o.run } } } });
    await waitFor('default ServiceAccount', async () => ({ ok: !!(await core.readNamespacedServiceAccount({ name: 'default', namespace }).catch(() => undefined)), detail: 'absent' }), 60_000);
    prepared = await ipam.prepare(ctx);
    const cap = nodePodCapacity(s);
    sim = new NodesimProcess(
      ['--kubeconfig', o.kubeconfig, '--nodes', nodes.map((n) => `${n.name}=${n.index}`).join(','), '--mode', 'ipam-only', '--cni-config', prepared.conflist, '--cni-path', prepared.cniPath,
        '--state-dir', stateDir, '--label', `${LABEL}=${id}`, '--taint', `${LABEL}=${id}:NoSchedule`, '--workers', String(o.workers), '--log-level', 'warn', ...(cap ? ['--pods', String(cap)] : [])],
      join(workDir, 'nodesim.log'),
    );
    await sim.start();
    await waitNodes(core, id, s.nodes);
    say('nodes ready', { nodes: s.nodes, podCapacityPerNode: cap ?? 250 });

    tracker = new PodTracker(kc, namespace, s.dual ? 2 : 1);
    tracker.start((await core.listNamespacedPod({ namespace })).metadata?.resourceVersion ?? '');
    const t = tracker;
    const simSummary = async (): Promise<Record<string, unknown> | undefined> => {
      if (!sim?.isRunning()) return undefined;
      const before = sim.summaries.length;
      process.kill(sim.pid()!, 'SIGUSR2');
      return waitFor('simulator summary', async () => ({ ok: sim!.summaries.length > before, value: sim!.summaries.at(-1), detail: '' }), 15_000, 100).catch(() => undefined);
    };

    // Runs one phase: sampler + progress, condition, simulator summary, settle and counters.
    const phase = async (name: PhaseName, act: () => Promise<void>, count: (t0: number) => number, done: (t0: number) => boolean, startup: (t0: number) => number[], extra: (t0: number) => Record<string, unknown> = () => ({})): Promise<PhaseResult> => {
      const t0 = Date.now();
      const series: Array<[number, number]> = [];
      const sample = () => series.push([Math.round((Date.now() - t0) / 100) / 10, count(t0)]);
      sample();
      const sampler = setInterval(sample, 1000);
      const progress = setInterval(() => say(`${name}: ${count(t0)}/${TOTAL}`, { elapsedSec: Math.round((Date.now() - t0) / 1000), livePods: t.live().length }), 5000);
      const r: PhaseResult = { phase: name, ok: false, seconds: null, runningOverTime: series, podStartupMs: null, cniAddMs: null, failures: null, retries: null, duplicateIPs: 0, leakedIPs: null, podsWithoutIP: 0, settleSeconds: null, extra: {} };
      say(`${name}: start`);
      const cpu0 = snapshotCpu();
      const simPid0 = sim?.pid();
      try {
        if (aborted) throw new Error('aborted (signal)');
        await act();
        while (!done(t0)) {
          if (aborted) throw new Error('aborted (signal)');
          if (Date.now() - t0 > o.phaseTimeoutMs) throw new Error(`timed out after ${o.phaseTimeoutMs / 1000} s: ${count(t0)}/${TOTAL}`);
          await sleep(200);
        }
        r.ok = true;
      } catch (e) {
        r.error = (e as Error).message;
      }
      const tDone = Date.now();
      r.cpuSeconds = cpuByComponent(cpu0, snapshotCpu(), { self: process.pid, simulators: [simPid0, sim?.pid()].filter((p): p is number => p !== undefined), controlPlane });
      sample();
      clearInterval(sampler);
      clearInterval(progress);
      if (r.ok) r.seconds = (tDone - t0) / 1000;
      const st = startup(t0).sort((a, b) => a - b);
      if (st.length) r.podStartupMs = { p50: percentile(st, 50), p90: percentile(st, 90), p99: percentile(st, 99), count: st.length };
      const sum = await simSummary();
      if (sum) {
        const add = sum.cniAddMs as { p50: number | null; p99: number | null; count: number };
        r.cniAddMs = { p50: add.p50, p99: add.p99, count: add.count };
        r.failures = Number(sum.addFailures ?? 0);
        r.retries = Number(sum.syncFailures ?? 0);
      }
      r.extra = { ...extra(t0), simulator: sum };
      say(`${name}: ${r.ok ? `done in ${r.seconds} s` : `FAILED: ${r.error}`}`);
      return r;
    };

    // Settle: poll until no address is held by a pod that does not exist (bounded), then count.
    const settle = async (r: PhaseResult): Promise<void> => {
      const t0 = Date.now();
      let leaked: number | null = null;
      let podsNow: V1Pod[] = [];
      for (;;) {
        podsNow = (await core.listNamespacedPod({ namespace })).items;
        if (prepared!.allocated) {
          const held = new Set(podsNow.flatMap((p) => (p.status?.podIPs ?? []).map((i) => i.ip)));
          leaked = (await prepared!.allocated()).filter((ip) => !held.has(ip)).length;
        }
        // The IPAM's own checker too (a live cluster lags: e.g. a pool's status count a moment behind).
        if (prepared!.findings) r.checkerFindings = await prepared!.findings().catch((e: Error) => ({ count: -1, kinds: { [`error: ${e.message}`]: 1 } }));
        if (((leaked ?? 0) === 0 && (r.checkerFindings?.count ?? 0) === 0) || Date.now() - t0 > o.settleMs) break;
        await sleep(1000);
      }
      r.leakedIPs = leaked;
      r.settleSeconds = (Date.now() - t0) / 1000;
      const alive = podsNow.filter((p) => !p.metadata?.deletionTimestamp);
      const byIp = new Map<string, number>();
      for (const p of alive) for (const i of p.status?.podIPs ?? []) byIp.set(i.ip, (byIp.get(i.ip) ?? 0) + 1);
      r.duplicateIPs = [...byIp.values()].filter((n) => n > 1).length;
      r.podsWithoutIP = alive.filter((p) => (p.status?.podIPs ?? []).length < (s.dual ? 2 : 1)).length;
      say(`${r.phase}: settled`, { leakedIPs: r.leakedIPs, duplicateIPs: r.duplicateIPs, podsWithoutIP: r.podsWithoutIP, settleSec: r.settleSeconds, checker: r.checkerFindings });
    };

    const runningSince = (t0: number) => new Set(t.runningEvents.filter((e) => e.at >= t0).map((e) => e.uid));
    const liveRunningSince = (t0: number) => {
      const since = runningSince(t0);
      return t.live().filter((p) => p.running && !p.deleting && since.has(p.uid));
    };

    // 1. create
    const create = await phase(
      'create',
      () => createDeployments(apps, namespace, s, id, prepared!.podAnnotations),
      (t0) => liveRunningSince(t0).length,
      (t0) => liveRunningSince(t0).length >= TOTAL,
      (t0) => t.runningEvents.filter((e) => e.at >= t0).map((e) => e.at - (t.pods.get(e.uid)?.created ?? e.at)),
    );
    result.phases.push(create);
    if (create.ok) await settle(create);

    // 2. rebuild
    if (create.ok) {
      let old = new Set<string>();
      const rebuild = await phase(
        'rebuild',
        async () => {
          old = new Set(t.live().map((p) => p.uid));
          await deleteEach([...t.live()].map((p) => p.name), (name) => core.deleteNamespacedPod({ name, namespace }));
        },
        (t0) => liveRunningSince(t0).filter((p) => !old.has(p.uid)).length,
        (t0) => liveRunningSince(t0).filter((p) => !old.has(p.uid)).length >= TOTAL,
        (t0) => t.runningEvents.filter((e) => e.at >= t0 && !old.has(e.uid)).map((e) => e.at - (t.pods.get(e.uid)?.created ?? e.at)),
        () => ({ oldPodsLeft: t.live().filter((p) => old.has(p.uid)).length }),
      );
      result.phases.push(rebuild);
      if (rebuild.ok) await settle(rebuild);
    }

    // 3. recovery (power off every node = SIGKILL the simulator, power on = start it again)
    if (result.phases.every((p) => p.ok)) {
      let before = new Map<string, string[]>();
      let tOn = 0;
      const recovery = await phase(
        'recovery',
        async () => {
          before = new Map(t.live().filter((p) => p.running).map((p) => [p.uid, p.ips]));
          await sim!.powerOff();
          say(`recovery: powered off, on again in ${o.offSeconds} s`);
          await sleep(o.offSeconds * 1000);
          tOn = Date.now();
          await sim!.start();
          say('recovery: powered on');
        },
        (t0) => liveRunningSince(t0).filter((p) => before.has(p.uid)).length,
        (t0) => liveRunningSince(t0).filter((p) => before.has(p.uid)).length >= before.size,
        (t0) => t.runningEvents.filter((e) => e.at >= t0 && before.has(e.uid)).map((e) => e.at - t0),
        (t0) => {
          const back = liveRunningSince(t0).filter((p) => before.has(p.uid));
          const same = back.filter((p) => [...p.ips].sort().join(',') === [...(before.get(p.uid) ?? [])].sort().join(',')).length;
          return { pods: before.size, sameIPs: same, fromPowerOnSeconds: tOn ? (Date.now() - tOn) / 1000 : null, offSeconds: o.offSeconds };
        },
      );
      result.phases.push(recovery);
      if (recovery.ok) await settle(recovery);
    }

    // 4. delete (always attempted: it also cleans up)
    let tGone = 0;
    const del = await phase(
      'delete',
      () => deleteEach(Array.from({ length: s.deployments }, (_, i) => `app-${i}`), (name) => apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy: 'Background' })),
      () => t.live().length,
      () => {
        if (t.live().length > 0) return false;
        tGone ||= Date.now();
        return true;
      },
      () => [],
    );
    result.phases.push(del);
    if (del.ok) {
      // Every pod gone: now until the IPAM holds no address.
      const pods = (await core.listNamespacedPod({ namespace })).items.length;
      let freeAt: number | null = null;
      let held: number | null = null;
      if (prepared.allocated) {
        const deadline = Date.now() + o.settleMs;
        for (;;) {
          held = (await prepared.allocated()).length;
          if (held === 0) {
            freeAt = Date.now();
            break;
          }
          if (Date.now() > deadline) break;
          await sleep(250);
        }
      }
      const t0 = tGone - (del.seconds ?? 0) * 1000;
      del.leakedIPs = held;
      del.extra = { ...del.extra, podsLeftInApi: pods, allPodsGoneSeconds: del.seconds, ipsFreeAfterLastPodSeconds: freeAt ? (freeAt - tGone) / 1000 : null };
      if (freeAt) del.seconds = (freeAt - t0) / 1000;
      else if (prepared.allocated) {
        del.ok = false;
        del.error = `${held} addresses still held ${o.settleMs / 1000} s after the last pod was gone`;
      }
      if (prepared.findings) del.checkerFindings = await prepared.findings().catch(() => undefined);
      say('delete: addresses', { held, ipsFreeAfterLastPodSeconds: del.extra.ipsFreeAfterLastPodSeconds });
    }
  } catch (e) {
    result.error = (e as Error).stack ?? String(e);
    say('run failed', { error: (e as Error).message });
  } finally {
    tracker?.stop();
    await sim?.stop(20_000).catch(() => undefined);
    await apps.deleteCollectionNamespacedDeployment({ namespace }).catch(() => undefined);
    await core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
    await prepared?.teardown().catch(() => undefined);
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    for (const n of nodes) {
      await core.deleteNode({ name: n.name }).catch(() => undefined);
      await coord.deleteNamespacedLease({ name: n.name, namespace: 'kube-node-lease' }).catch(() => undefined);
    }
    try {
      execFileSync(process.execPath, ['--disable-warning=DEP0180', '--import', './hack/register-ts.mjs', 'tests/nodesim/main.ts', 'cleanup', '--state-dir', stateDir, '--nodes', nodes.map((n) => n.name).join(',')], { cwd: repoRoot, stdio: 'ignore' });
    } catch {
      say('nodesim cleanup failed');
    }
  }
  return result;
}

/**
 * One DELETE per object (what `kubectl delete pod a b c` does), 20 in flight: a deletecollection of
 * 1000 pods is one request the apiserver may take longer to answer than the client waits. A failed
 * DELETE is retried (3 times); NotFound counts as done.
 */
async function deleteEach(names: string[], del: (name: string) => Promise<unknown>): Promise<void> {
  const queue = [...names];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      for (let attempt = 1; ; attempt++) {
        try {
          await del(name);
          break;
        } catch (e) {
          if ((e as { code?: number }).code === 404 || attempt >= 3) break;
          await sleep(1000 * attempt);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
}

async function waitNodes(core: CoreV1Api, id: string, count: number): Promise<void> {
  await waitFor(`${count} nodes Ready and untainted`, async () => {
    const nodes = (await core.listNode({ labelSelector: `${LABEL}=${id}` })).items;
    const ok = nodes.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !(n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/')));
    return { ok: ok.length === count, detail: `${ok.length}/${count}` };
  }, 120_000);
}

async function createDeployments(apps: AppsV1Api, namespace: string, s: Scenario, id: string, annotations: Record<string, string>): Promise<void> {
  const names = Array.from({ length: s.deployments }, (_, i) => `app-${i}`);
  for (let i = 0; i < names.length; i += 10) {
    await Promise.all(names.slice(i, i + 10).map((name) => apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name },
        spec: {
          replicas: s.replicas,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name, [LABEL]: id }, annotations },
            spec: {
              nodeSelector: { [LABEL]: id },
              tolerations: [{ key: LABEL, operator: 'Equal', value: id, effect: 'NoSchedule' }],
              automountServiceAccountToken: false,
              terminationGracePeriodSeconds: 1,
              containers: [{ name: 'app', image: IMAGE }],
            },
          },
        },
      },
    })));
  }
}
