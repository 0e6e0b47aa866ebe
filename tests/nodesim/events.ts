// Events the kubelet would emit for a pod (source kubelet/<node>), aggregated like client-go's
// recorder: a repeat of the same (pod, reason, message) bumps count/lastTimestamp instead of
// creating a new object.
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { Clients } from './kube.js';
import { apiCode, apiMessage, mergePatch, rfc3339 } from './kube.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

export class EventRecorder {
  private readonly seen = new Map<string, { name: string; namespace: string; count: number }>();

  constructor(
    private readonly clients: Clients,
    private readonly node: string,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  async emit(pod: V1Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const md = pod.metadata!;
    const key = `${md.uid}|${reason}|${message}`;
    const now = rfc3339();
    const prev = this.seen.get(key);
    try {
      if (prev) {
        prev.count++;
        try {
          await this.clients.core.patchNamespacedEvent(
            { name: prev.name, namespace: prev.namespace, body: { count: prev.count, lastTimestamp: now } },
            mergePatch(),
          );
          this.metrics.events++;
          return;
        } catch (e) {
          if (apiCode(e) !== 404) throw e;
        }
      }
      const name = `${md.name}.${randomBytes(8).toString('hex')}`;
      const body: CoreV1Event = {
        metadata: { name, namespace: md.namespace! },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', name: md.name!, namespace: md.namespace!, uid: md.uid!, resourceVersion: md.resourceVersion! },
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: now as never,
        lastTimestamp: now as never,
        source: { component: 'kubelet', host: this.node },
        reportingComponent: 'kubelet',
        reportingInstance: this.node,
      };
      await this.clients.core.createNamespacedEvent({ namespace: md.namespace!, body });
      this.seen.set(key, { name, namespace: md.namespace!, count: 1 });
      this.metrics.events++;
    } catch (e) {
      // Events are best effort (the namespace may be terminating).
      this.log.debug('event not recorded', { reason, pod: `${md.namespace}/${md.name}`, error: apiMessage(e) });
    }
  }

  forget(uid: string): void {
    for (const k of this.seen.keys()) if (k.startsWith(`${uid}|`)) this.seen.delete(k);
  }
}
