// Warning Events on a pod whose address could not be allocated (issue 8 §3): `kubectl describe pod`
// shows the reason and the fix next to the runtime's "failed to create pod sandbox" event, e.g.
//   IPPoolExhausted  pool p1 has no free IP (254/254 allocated); add IPs to spec.ips or scale down
// Only failures the user can fix by changing objects get one: an exhausted pool and no candidate
// pool. The namespace quota posts its own (service/quota-events.ts, IPQuotaExceeded); retryable
// states (not leader, not ready, an auto pool being created) heal by themselves.
//
// Same recorder pattern as quota-events.ts: the runtime retries a failed ADD every few seconds, so
// one Event per pod and reason per minute is enough to be seen without flooding the API. Posted
// off the allocation path (fire and forget); the allocator calls this only when it fails.
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from '../framework/logger.js';
import { ErrorReason } from '../rpc/errors.js';

export const EVENT_POOL_EXHAUSTED = 'IPPoolExhausted';
export const EVENT_NO_CANDIDATE_POOL = 'NoCandidateIPPool';

/** What the allocator reports about a failed Allocate (service/allocator-service.ts onAllocationFailure). */
export interface AllocationFailure {
  pod: { namespace: string; name: string; uid: string };
  /** The IPAM error reason (rpc/errors.ts). */
  reason: string;
  /** The error message the shim also gets. */
  message: string;
  /** For an exhausted pool: each candidate pool's counts from the allocator (null when not loaded). */
  pools: { name: string; used: number | null; total: number | null }[];
}

/** The Event a failure calls for (reason + message naming the fix), or undefined for none. */
export function failureEvent(f: AllocationFailure): { reason: string; message: string } | undefined {
  switch (f.reason) {
    case ErrorReason.PoolExhausted: {
      const each = f.pools.map((p) => (p.total === null ? `pool ${p.name} has no free IP` : `pool ${p.name} has no free IP (${p.used}/${p.total} allocated)`));
      const which = f.pools.length === 1 ? 'spec.ips' : `spec.ips of one of them`;
      return { reason: EVENT_POOL_EXHAUSTED, message: `${each.join('; ') || f.message}; add IPs to ${which} or scale down` };
    }
    case ErrorReason.NoCandidatePool:
      return {
        reason: EVENT_NO_CANDIDATE_POOL,
        message:
          `no IP pool can serve this pod: ${f.message}; fix the pod's ipam.spidernet.io/ippool(s) annotation or the namespace's ` +
          `default pools, or widen the pools' nodeName/nodeAffinity, namespaceName/namespaceAffinity, podAffinity, or enable a disabled pool`,
      };
    default:
      return undefined;
  }
}

/** Core API messages are capped (1 KiB shows fully in `kubectl describe`); selection messages can list many pools. */
const MAX_MESSAGE = 1024;

export function allocationEventRecorder(
  core: CoreV1Api,
  log: Logger,
  opts: { component?: string; everyMs?: number; now?: () => number } = {},
): (f: AllocationFailure) => void {
  const last = new Map<string, number>();
  const now = opts.now ?? Date.now;
  const every = opts.everyMs ?? 60_000;
  return (f) => {
    const ev = failureEvent(f);
    if (ev === undefined || !f.pod.namespace || !f.pod.name) return;
    const key = `${f.pod.uid}/${ev.reason}`;
    const t = now();
    if (t - (last.get(key) ?? -Infinity) < every) return;
    last.set(key, t);
    // Forget pods not refused for a while (the map would otherwise grow with every refused pod).
    if (last.size > 10_000) for (const [k, at] of last) if (t - at >= every) last.delete(k);
    const stamp = new Date(t);
    const message = ev.message.length > MAX_MESSAGE ? `${ev.message.slice(0, MAX_MESSAGE - 1)}…` : ev.message;
    core
      .createNamespacedEvent({
        namespace: f.pod.namespace,
        body: {
          metadata: { generateName: `${f.pod.name}.ipalloc.`, namespace: f.pod.namespace },
          involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: f.pod.namespace, name: f.pod.name, uid: f.pod.uid },
          reason: ev.reason,
          type: 'Warning',
          message,
          source: { component: opts.component ?? 'spiderpool-ts-operator' },
          firstTimestamp: stamp,
          lastTimestamp: stamp,
          count: 1,
        },
      })
      .catch((err: unknown) => log.warn('could not post allocation failure event', { namespace: f.pod.namespace, name: f.pod.name, error: (err as Error)?.message ?? String(err) }));
  };
}
