// Warning events on a workload whose auto pool cannot be made (bad annotation, SpiderSubnet missing,
// of the wrong family, or short of addresses), so `kubectl describe deployment` says why its pods
// wait. The controller looks again every few seconds: one event per workload and message per
// minute is enough to be seen without flooding.
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Application } from '../../core/workload/index.js';
import type { Logger } from '../../framework/logger.js';

export const AUTO_POOL_EVENT_REASON = 'AutoPoolFailed';

export type AutoPoolEvents = (app: Application, message: string) => void;

export function autoPoolEventRecorder(core: CoreV1Api, log: Logger, opts: { everyMs?: number; now?: () => number } = {}): AutoPoolEvents {
  const last = new Map<string, number>();
  const now = opts.now ?? Date.now;
  const every = opts.everyMs ?? 60_000;
  return (app, message) => {
    const key = `${app.uid}/${message}`;
    const t = now();
    if (t - (last.get(key) ?? -Infinity) < every) return;
    last.set(key, t);
    if (last.size > 10_000) for (const [k, at] of last) if (t - at >= every) last.delete(k);
    const stamp = new Date(t);
    core
      .createNamespacedEvent({
        namespace: app.namespace,
        body: {
          metadata: { generateName: `${app.name}.autopool.`, namespace: app.namespace },
          involvedObject: { apiVersion: app.apiVersion, kind: app.kind, namespace: app.namespace, name: app.name, uid: app.uid },
          reason: AUTO_POOL_EVENT_REASON,
          type: 'Warning',
          message,
          source: { component: 'spiderpool-ts-operator' },
          firstTimestamp: stamp,
          lastTimestamp: stamp,
          count: 1,
        },
      })
      .catch((err: unknown) => log.warn('could not post auto pool event', { namespace: app.namespace, name: app.name, error: (err as Error)?.message ?? String(err) }));
  };
}
