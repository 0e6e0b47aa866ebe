// The pod side of one simulated kubelet: per-pod sync through bounded pod workers.
//   bound pod, no sandbox      -> RunPodSandbox (netns + CNI ADD), then status Running
//   sandbox, stale API status  -> status patch (e.g. node-lifecycle marked it NotReady)
//   deletionTimestamp set      -> wait min(grace, cap), StopPodSandbox (CNI DEL + netns), then
//                                 delete with gracePeriodSeconds=0 and the pod UID as precondition
//   pod gone from the API      -> StopPodSandbox for anything left (force deletion)
//   sandbox from before a kubelet stop (SIGTERM) -> adopted as it is
//   sandbox from before a power-off ("dead") -> released with CNI DEL (old container id, empty
//                                 CNI_NETNS) before the replacement sandbox is created, as the kubelet's
//                                 KillPod -> containerd StopPodSandbox does; optional (see main.ts)
import type { V1Pod } from '@kubernetes/client-node';
import type { EventRecorder } from './events.js';
import type { Clients } from './kube.js';
import { apiCode, apiMessage, mergePatch, sleep } from './kube.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import { runningStatusPatch, statusReflects } from './podstatus.js';
import type { PodEventType } from './podwatch.js';
import { PodReflector } from './podwatch.js';
import type { Runtime } from './runtime.js';
import { SandboxError } from './runtime.js';
import type { SandboxRecord } from './sandboxes.js';
import { removeSandbox } from './sandboxes.js';
import { KeyedQueue } from './workqueue.js';

export interface KubeletOptions {
  node: string;
  nodeIP: string;
  stateDir: string;
  workers: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Cap on deletionGracePeriodSeconds (there are no processes to stop). */
  maxGraceMs: number;
  /** Release sandboxes that died with a power-off with CNI DEL (kubelet+containerd behaviour). */
  releaseDeadSandboxes: boolean;
  bootId: string;
}

interface PodState {
  uid: string;
  pod: V1Pod;
  gone: boolean;
  sandbox?: SandboxRecord;
  dead: SandboxRecord[];
  killStartedAt?: number;
  finalized?: boolean;
  reportedSandbox?: string;
  sandboxChangedEmitted?: boolean;
}

const podKey = (p: V1Pod): string => `${p.metadata?.namespace}/${p.metadata?.name}`;

export class SimKubelet {
  private readonly states = new Map<string, PodState>();
  private readonly deadByUid = new Map<string, SandboxRecord[]>();
  private readonly adoptByUid = new Map<string, SandboxRecord[]>();
  private readonly queue: KeyedQueue;
  private readonly reflector: PodReflector;

  constructor(
    private readonly o: KubeletOptions,
    private readonly clients: Clients,
    private readonly runtime: Runtime,
    private readonly events: EventRecorder,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    deadSandboxes: SandboxRecord[],
    /** Sandboxes that survived a kubelet stop (SIGTERM): taken over as they are. */
    adoptedSandboxes: SandboxRecord[] = [],
  ) {
    for (const rec of adoptedSandboxes) {
      const l = this.adoptByUid.get(rec.podUid) ?? [];
      l.push(rec);
      this.adoptByUid.set(rec.podUid, l);
    }
    for (const rec of deadSandboxes) {
      if (!o.releaseDeadSandboxes) {
        removeSandbox(o.stateDir, rec); // forget without DEL: its IPAM allocation leaks, by request
        continue;
      }
      const l = this.deadByUid.get(rec.podUid) ?? [];
      l.push(rec);
      this.deadByUid.set(rec.podUid, l);
    }
    this.queue = new KeyedQueue(
      { concurrency: o.workers, retryBaseMs: o.retryBaseMs, retryMaxMs: o.retryMaxMs },
      (uid) => this.sync(uid),
      (uid, err, attempt, retryInMs) => {
        this.metrics.syncFailures++;
        const st = this.states.get(uid);
        this.log.warn('pod sync failed, will retry', {
          pod: st ? podKey(st.pod) : uid,
          attempt,
          retryInMs,
          error: err instanceof Error ? err.message : apiMessage(err),
        });
      },
    );
    this.reflector = new PodReflector(clients, `spec.nodeName=${o.node}`, (t, p) => this.onPod(t, p), log, () => this.onSynced());
  }

  start(): void {
    this.reflector.start();
  }

  async stop(timeoutMs: number): Promise<boolean> {
    this.reflector.stop();
    return this.queue.shutdown(timeoutMs);
  }

  /** Sandboxes this process currently holds (live) plus dead ones not yet released. */
  sandboxCount(): number {
    let n = 0;
    for (const s of this.states.values()) n += (s.sandbox ? 1 : 0) + s.dead.length;
    for (const l of this.deadByUid.values()) n += l.length;
    for (const l of this.adoptByUid.values()) n += l.length;
    return n;
  }

  podCount(): number {
    return this.states.size;
  }

  private onPod(type: PodEventType, pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    let st = this.states.get(uid);
    if (!st) {
      if (type === 'DELETED' && !this.deadByUid.has(uid) && !this.adoptByUid.has(uid)) return;
      st = { uid, pod, gone: false, dead: this.deadByUid.get(uid) ?? [] };
      this.deadByUid.delete(uid);
      const adopted = this.adoptByUid.get(uid) ?? [];
      this.adoptByUid.delete(uid);
      // One sandbox per pod is kept; any extra (should not happen) is stopped like a dead one.
      st.sandbox = adopted[0];
      st.reportedSandbox = adopted[0]?.sandboxId;
      st.dead.push(...adopted.slice(1));
      this.states.set(uid, st);
    }
    st.pod = pod;
    if (type === 'DELETED') st.gone = true;
    this.queue.add(uid);
  }

  /** After the first list: dead sandboxes of pods that no longer exist are released too. */
  private onSynced(): void {
    for (const [uid, recs] of this.adoptByUid) {
      const l = this.deadByUid.get(uid) ?? [];
      l.push(...recs);
      this.deadByUid.set(uid, l);
    }
    this.adoptByUid.clear();
    for (const [uid, recs] of this.deadByUid) {
      const r = recs[0]!;
      const pod: V1Pod = { metadata: { uid, name: r.name, namespace: r.namespace } };
      this.states.set(uid, { uid, pod, gone: true, dead: recs });
      this.queue.add(uid);
    }
    this.deadByUid.clear();
    this.log.info('pods synced', { node: this.o.node, pods: this.states.size });
  }

  private async stopAll(st: PodState): Promise<void> {
    if (st.sandbox) {
      await this.runtime.stopSandbox(st.sandbox);
      st.sandbox = undefined;
    }
    while (st.dead.length) {
      await this.runtime.stopSandbox(st.dead[0]!);
      st.dead.shift();
      this.metrics.deadSandboxesReleased++;
    }
  }

  private async sync(uid: string): Promise<void> {
    const st = this.states.get(uid);
    if (!st) return;
    const pod = st.pod;
    const key = podKey(pod);

    if (st.gone) {
      await this.stopAll(st);
      this.states.delete(uid);
      this.events.forget(uid);
      this.queue.forget(uid);
      return;
    }

    const phase = pod.status?.phase;
    if (pod.metadata?.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed') {
      if (st.finalized) return;
      if (st.sandbox || st.dead.length) {
        // "Stop the containers": the grace period, capped, since nothing really runs.
        st.killStartedAt ??= Date.now();
        const grace = Math.min((pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000, this.o.maxGraceMs);
        const wait = st.killStartedAt + grace - Date.now();
        if (wait > 0) await sleep(wait);
        await this.stopAll(st);
        this.log.info('pod sandbox stopped', { pod: key, node: this.o.node });
      }
      if (pod.metadata?.deletionTimestamp) {
        try {
          await this.clients.core.deleteNamespacedPod({
            name: pod.metadata.name!,
            namespace: pod.metadata.namespace!,
            gracePeriodSeconds: 0,
            body: { gracePeriodSeconds: 0, preconditions: { uid } },
          });
          this.metrics.podsFinalized++;
        } catch (e) {
          const code = apiCode(e);
          if (code !== 404 && code !== 409) throw e;
        }
        st.finalized = true;
      }
      return;
    }

    if (st.dead.length) {
      if (!st.sandboxChangedEmitted && st.dead.some((r) => r.bootId !== this.o.bootId)) {
        st.sandboxChangedEmitted = true;
        void this.events.emit(pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      }
      await this.stopAll(st);
    }

    if (!st.sandbox) {
      const t0 = performance.now();
      try {
        st.sandbox = await this.runtime.runSandbox(pod);
      } catch (e) {
        if (e instanceof SandboxError && e.leftover) st.dead.push(e.leftover);
        const msg = e instanceof Error ? e.message : String(e);
        void this.events.emit(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${msg}`);
        throw e;
      }
      const setupMs = performance.now() - t0;
      this.metrics.podsSetUp++;
      this.metrics.observeSetup(setupMs);
      this.log.info('pod sandbox ready', {
        pod: key,
        node: this.o.node,
        ips: st.sandbox.ips,
        sandbox: st.sandbox.sandboxId.slice(0, 12),
        setupMs: Math.round(setupMs * 10) / 10,
      });
    }

    if (!statusReflects(pod, st.sandbox, this.o.nodeIP)) {
      try {
        await this.clients.core.patchNamespacedPodStatus(
          { name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, body: runningStatusPatch(pod, st.sandbox, this.o.nodeIP) },
          mergePatch(),
        );
        this.metrics.statusPatches++;
        if (st.reportedSandbox !== st.sandbox.sandboxId) {
          st.reportedSandbox = st.sandbox.sandboxId;
          this.metrics.markRunning();
        }
      } catch (e) {
        const code = apiCode(e);
        if (code === 404 || code === 409) return; // deleted or replaced meanwhile: the watch tells
        throw e;
      }
    }
  }
}
