// A simulated node's kubelet "node status" side: registers the Node (labels, capacity/allocatable,
// addresses, nodeInfo), posts the Ready condition with heartbeats, and renews its Lease in
// kube-node-lease — so the real node-lifecycle controller sees the node Ready while the process
// lives and NotReady (then taints/evicts) once it stops.
import type { V1Node, V1NodeCondition } from '@kubernetes/client-node';
import { randomUUID } from 'node:crypto';
import type { Clients } from './kube.js';
import { apiCode, apiMessage, mergePatch, microTime, rfc3339 } from './kube.js';
import type { Logger } from './log.js';

export interface NodeSpec {
  name: string;
  index: number;
  ip: string;
  cpu: string;
  memory: string;
  pods: number;
  labels: Record<string, string>;
  /** Taints set when the Node is created (kubelet --register-with-taints). */
  taints: Array<{ key: string; value?: string; effect: string }>;
  kubeletVersion: string;
  leaseDurationSeconds: number;
  heartbeatMs: number;
  bootId: string;
}

const LEASE_NS = 'kube-node-lease';
const CONDITION_TYPES: Array<[string, string, string, string]> = [
  // type, status, reason, message — as the kubelet reports them
  ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
  ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
  ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
  ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
];

export class SimNode {
  private timer: NodeJS.Timeout | undefined;
  private uid: string | undefined;
  private transitions = new Map<string, string>();
  private stopped = false;
  heartbeats = 0;
  heartbeatFailures = 0;

  constructor(
    readonly spec: NodeSpec,
    private readonly clients: Clients,
    private readonly log: Logger,
  ) {}

  private labels(): Record<string, string> {
    return {
      'kubernetes.io/hostname': this.spec.name,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': 'amd64',
      'node.kubernetes.io/instance-type': 'spts-simulated',
      'spiderpool-ts.io/simulated-node': 'true',
      ...this.spec.labels,
    };
  }

  /** Register (create, or adopt an existing Node as a restarted kubelet does), then post status. */
  async register(): Promise<void> {
    const { core } = this.clients;
    const node: V1Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: this.spec.name,
        labels: this.labels(),
        annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true', 'node.alpha.kubernetes.io/ttl': '0' },
      },
      spec: this.spec.taints.length ? { taints: this.spec.taints } : {},
    };
    let existing: V1Node;
    try {
      existing = await core.createNode({ body: node });
      this.log.info('node registered', { node: this.spec.name });
    } catch (e) {
      if (apiCode(e) !== 409) throw e;
      existing = await core.patchNode(
        { name: this.spec.name, body: { metadata: { labels: node.metadata!.labels, annotations: node.metadata!.annotations } } },
        mergePatch(),
      );
      this.log.info('node exists, adopted', { node: this.spec.name });
    }
    this.uid = existing.metadata?.uid;
    for (const c of existing.status?.conditions ?? []) {
      const want = CONDITION_TYPES.find(([t]) => t === c.type);
      if (want && c.status === want[1] && c.lastTransitionTime) this.transitions.set(c.type, rfc3339(new Date(c.lastTransitionTime)));
    }
    await this.postStatus(true);
    await this.renewLease();
  }

  private conditions(now: string): V1NodeCondition[] {
    return CONDITION_TYPES.map(([type, status, reason, message]) => {
      if (!this.transitions.has(type)) this.transitions.set(type, now);
      return { type, status, reason, message, lastHeartbeatTime: now as unknown as Date, lastTransitionTime: this.transitions.get(type) as unknown as Date };
    });
  }

  private async postStatus(full: boolean): Promise<void> {
    const now = rfc3339();
    const status: Record<string, unknown> = { conditions: this.conditions(now) };
    if (full) {
      const res = { cpu: this.spec.cpu, memory: this.spec.memory, pods: String(this.spec.pods), 'ephemeral-storage': '100Gi' };
      Object.assign(status, {
        capacity: res,
        allocatable: res,
        addresses: [
          { type: 'InternalIP', address: this.spec.ip },
          { type: 'Hostname', address: this.spec.name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: this.spec.name.padEnd(32, '0').slice(0, 32),
          systemUUID: randomUUID(),
          bootID: this.spec.bootId,
          kernelVersion: 'spts-nodesim',
          osImage: 'spiderpool-ts simulated node',
          containerRuntimeVersion: 'containerd://spts-nodesim',
          kubeletVersion: this.spec.kubeletVersion,
          kubeProxyVersion: '',
          operatingSystem: 'linux',
          architecture: 'amd64',
        },
      });
    }
    await this.clients.core.patchNodeStatus({ name: this.spec.name, body: { status } }, mergePatch());
  }

  private async renewLease(): Promise<void> {
    const { coord } = this.clients;
    const spec = { holderIdentity: this.spec.name, leaseDurationSeconds: this.spec.leaseDurationSeconds, renewTime: microTime() };
    try {
      await coord.patchNamespacedLease({ name: this.spec.name, namespace: LEASE_NS, body: { spec } }, mergePatch());
    } catch (e) {
      if (apiCode(e) !== 404) throw e;
      await coord.createNamespacedLease({
        namespace: LEASE_NS,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: this.spec.name,
            namespace: LEASE_NS,
            ownerReferences: this.uid ? [{ apiVersion: 'v1', kind: 'Node', name: this.spec.name, uid: this.uid }] : [],
          },
          spec: spec as never,
        },
      });
    }
  }

  /** Heartbeat every heartbeatMs (first one after a random fraction, so nodes do not beat in step). */
  start(): void {
    const beat = async (): Promise<void> => {
      if (this.stopped) return;
      try {
        await this.renewLease();
        await this.postStatus(false);
        this.heartbeats++;
      } catch (e) {
        this.heartbeatFailures++;
        this.log.warn('heartbeat failed', { node: this.spec.name, error: apiMessage(e) });
        // A deleted Node is re-registered by the kubelet; do the same.
        if (apiCode(e) === 404) await this.register().catch(() => undefined);
      }
      if (!this.stopped) this.timer = setTimeout(() => void beat(), this.spec.heartbeatMs);
    };
    this.timer = setTimeout(() => void beat(), Math.floor(Math.random() * this.spec.heartbeatMs));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
