// The Warning event a pod gets when its namespace's IP quota refuses an address
// (reason IPQuotaExceeded, `kubectl describe pod` shows it). The runtime retries a failed CNI ADD
// every few seconds: one event per pod and quota per minute is enough to be seen without flooding.
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from '../framework/logger.js';
import type { QuotaExceeded } from './namespace-quota.js';

export const QUOTA_EVENT_REASON = 'IPQuotaExceeded';

export function quotaEventRecorder(core: CoreV1Api, log: Logger, opts: { component?: string; everyMs?: number; now?: () => number } = {}): (e: QuotaExceeded) => void {
  const last = new Map<string, number>();
  const now = opts.now ?? Date.now;
  const every = opts.everyMs ?? 60_000;
  return (e) => {
    const key = `${e.pod.uid}/${e.subnet}`;
    const t = now();
    if (t - (last.get(key) ?? -Infinity) < every) return;
    last.set(key, t);
    // Forget pods not refused for a while (the map would otherwise grow with every refused pod).
    if (last.size > 10_000) for (const [k, at] of last) if (t - at >= every) last.delete(k);
    const stamp = new Date(t);
    core
      .createNamespacedEvent({
        namespace: e.pod.namespace,
        body: {
          metadata: { generateName: `${e.pod.name}.ipquota.`, namespace: e.pod.namespace },
          involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: e.pod.namespace, name: e.pod.name, uid: e.pod.uid },
          reason: QUOTA_EVENT_REASON,
          type: 'Warning',
          message: e.message,
          source: { component: opts.component ?? 'spiderpool-ts-operator' },
          firstTimestamp: stamp,
          lastTimestamp: stamp,
          count: 1,
        },
      })
      .catch((err: unknown) => log.warn('could not post quota event', { namespace: e.pod.namespace, name: e.pod.name, error: (err as Error)?.message ?? String(err) }));
  };
}
