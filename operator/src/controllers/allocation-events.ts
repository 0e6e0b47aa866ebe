// Warning Events on a pod whose address could not be allocated (issue 8 §3): `kubectl describe pod`
// shows the reason and the fix next to the runtime's "failed to create pod sandbox" event, e.g.
//   IPPoolExhausted  pool p1 has no free IP (254/254 allocated); add IPs to spec.ips or scale down
// Only failures the user can fix by changing objects get one: an exhausted pool and no candidate
// pool. The namespace quota posts its own (service/quota-events.ts, IPQuotaExceeded); retryable
// states (not leader, not ready, an auto pool being created) heal by themselves.
//
// Same recorder as quota-events.ts (framework/event-recorder.ts): the runtime retries a failed ADD
// every few seconds, so one Event per pod and reason per minute is enough to be seen without flooding
// the API. Posted off the allocation path (fire and forget); the allocator calls this only when it fails.
import type { CoreV1Api } from '@kubernetes/client-node';
import { podObject, warningEventRecorder } from '../framework/event-recorder.js';
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
  const record = warningEventRecorder(core, log, { ...opts, nameInfix: 'ipalloc', failureLog: 'could not post allocation failure event' });
  return (f) => {
    const ev = failureEvent(f);
    if (ev === undefined || !f.pod.namespace || !f.pod.name) return;
    const message = ev.message.length > MAX_MESSAGE ? `${ev.message.slice(0, MAX_MESSAGE - 1)}…` : ev.message;
    record({ involvedObject: podObject(f.pod), reason: ev.reason, message, topic: ev.reason });
  };
}
