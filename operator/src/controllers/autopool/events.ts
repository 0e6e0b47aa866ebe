// Warning events on a workload whose auto pool cannot be made (bad annotation, SpiderSubnet missing,
// of the wrong family, or short of addresses), so `kubectl describe deployment` says why its pods
// wait. The controller looks again every few seconds: one event per workload and message per
// minute is enough to be seen without flooding.
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Application } from '../../core/workload/index.js';
import { warningEventRecorder } from '../../framework/event-recorder.js';
import type { Logger } from '../../framework/logger.js';

export const AUTO_POOL_EVENT_REASON = 'AutoPoolFailed';

export type AutoPoolEvents = (app: Application, message: string) => void;

export function autoPoolEventRecorder(core: CoreV1Api, log: Logger, opts: { everyMs?: number; now?: () => number } = {}): AutoPoolEvents {
  const record = warningEventRecorder(core, log, { ...opts, nameInfix: 'autopool', failureLog: 'could not post auto pool event' });
  return (app, message) => record({ involvedObject: app, reason: AUTO_POOL_EVENT_REASON, message, topic: message });
}
