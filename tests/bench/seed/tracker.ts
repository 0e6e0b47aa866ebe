// Pods of one benchmark namespace as seen by a watch: the latest state per pod UID and every
// "incarnation became Running" event (a new container id reported Running with all its IPs), which
// is what the phases time: creation -> Running (the pod startup SLI), and Running again after a
// power cycle (new sandbox, new container id).
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { Watch } from '@kubernetes/client-node';

export interface PodState {
  uid: string;
  name: string;
  created: number;
  deleting: boolean;
  gone?: number;
  ips: string[];
  containerId: string;
  running: boolean;
}

export interface RunningEvent {
  uid: string;
  at: number;
  containerId: string;
  ips: string[];
}

export class PodTracker {
  readonly pods = new Map<string, PodState>();
  readonly runningEvents: RunningEvent[] = [];
  private readonly seenIncarnations = new Set<string>();
  private rv = '';
  private stopped = false;
  private abort: AbortController | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly namespace: string,
    /** IPs a Running pod must report (1, or 2 for dual stack). */
    private readonly ipsPerPod: number,
  ) {}

  start(initialRv: string): void {
    this.rv = initialRv;
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      await new Promise<void>((res) => {
        void new Watch(this.kc)
          .watch(`/api/v1/namespaces/${this.namespace}/pods`, { resourceVersion: this.rv, allowWatchBookmarks: true }, (type, obj) => {
            const p = obj as V1Pod;
            if (p.metadata?.resourceVersion) this.rv = p.metadata.resourceVersion;
            if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.onPod(type, p);
          }, () => res())
          .then((ac) => (this.abort = ac), () => setTimeout(res, 1000));
      });
    }
  }

  private onPod(type: string, p: V1Pod): void {
    const uid = p.metadata?.uid;
    if (!uid) return;
    let s = this.pods.get(uid);
    if (!s) {
      s = { uid, name: p.metadata!.name ?? '', created: new Date(p.metadata!.creationTimestamp as unknown as string).getTime(), deleting: false, ips: [], containerId: '', running: false };
      this.pods.set(uid, s);
    }
    if (type === 'DELETED') {
      s.gone ??= Date.now();
      s.running = false;
      return;
    }
    s.deleting = !!p.metadata?.deletionTimestamp;
    s.ips = (p.status?.podIPs ?? []).map((i) => i.ip);
    s.containerId = p.status?.containerStatuses?.[0]?.containerID ?? '';
    const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    s.running = p.status?.phase === 'Running' && ready && s.ips.length >= this.ipsPerPod;
    const key = `${uid}/${s.containerId}`;
    if (s.running && s.containerId && !this.seenIncarnations.has(key)) {
      this.seenIncarnations.add(key);
      this.runningEvents.push({ uid, at: Date.now(), containerId: s.containerId, ips: [...s.ips] });
    }
  }

  live(): PodState[] {
    return [...this.pods.values()].filter((s) => s.gone === undefined);
  }
}
