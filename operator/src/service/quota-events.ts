// The Warning event a pod gets when its namespace's IP quota refuses an address
// (reason IPQuotaExceeded, `kubectl describe pod` shows it). The runtime retries a failed CNI ADD
// every few seconds: one event per pod and quota per minute is enough to be seen without flooding.
import type { CoreV1Api } from '@kubernetes/client-node';
import { podObject, warningEventRecorder } from '../framework/event-recorder.js';
import type { Logger } from '../framework/logger.js';
import type { QuotaExceeded } from './namespace-quota.js';

export const QUOTA_EVENT_REASON = 'IPQuotaExceeded';

export function quotaEventRecorder(core: CoreV1Api, log: Logger, opts: { component?: string; everyMs?: number; now?: () => number } = {}): (e: QuotaExceeded) => void {
  const record = warningEventRecorder(core, log, { ...opts, nameInfix: 'ipquota', failureLog: 'could not post quota event' });
  return (e) => record({ involvedObject: podObject(e.pod), reason: QUOTA_EVENT_REASON, message: e.message, topic: e.subnet });
}
