// Rate-limited Warning Events (what `kubectl describe` shows next to an object). Our callers post
// them from loops that come back every few seconds (a runtime retrying a failed CNI ADD, a controller
// looking again at a workload), so one Event per object and topic per interval is enough to be seen
// without flooding the API. Posting is fire and forget: a failed post is logged, never thrown, and
// never delays the caller.
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from './logger.js';

/** The object an Event is about (it must be namespaced: Events are posted to its namespace). */
export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

export interface WarningEvent {
  involvedObject: InvolvedObject;
  reason: string;
  message: string;
  /** What makes two Events on one object different (a reason, a subnet, a message): one each per interval. */
  topic: string;
}

export interface WarningEventRecorderOptions {
  /** The middle of the Event's generated name: `<object>.<nameInfix>.<random>`. */
  nameInfix: string;
  /** The log line when a post fails (e.g. "could not post quota event"). */
  failureLog: string;
  /** source.component; default spiderpool-ts-operator. */
  component?: string;
  /** At most one Event per object and topic this often; default 60 s. */
  everyMs?: number;
  now?: () => number;
}

/** Past this many remembered (object, topic) pairs, the ones older than the interval are forgotten. */
const MAX_REMEMBERED = 10_000;

export function warningEventRecorder(core: CoreV1Api, log: Logger, opts: WarningEventRecorderOptions): (e: WarningEvent) => void {
  const last = new Map<string, number>();
  const now = opts.now ?? Date.now;
  const every = opts.everyMs ?? 60_000;
  const component = opts.component ?? 'spiderpool-ts-operator';
  return ({ involvedObject: obj, reason, message, topic }) => {
    const key = `${obj.uid}/${topic}`;
    const t = now();
    if (t - (last.get(key) ?? -Infinity) < every) return;
    last.set(key, t);
    // Forget objects not reported for a while (the map would otherwise grow with every one reported).
    if (last.size > MAX_REMEMBERED) for (const [k, at] of last) if (t - at >= every) last.delete(k);
    const stamp = new Date(t);
    core
      .createNamespacedEvent({
        namespace: obj.namespace,
        body: {
          metadata: { generateName: `${obj.name}.${opts.nameInfix}.`, namespace: obj.namespace },
          involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.namespace, name: obj.name, uid: obj.uid },
          reason,
          type: 'Warning',
          message,
          source: { component },
          firstTimestamp: stamp,
          lastTimestamp: stamp,
          count: 1,
        },
      })
      .catch((err: unknown) => log.warn(opts.failureLog, { namespace: obj.namespace, name: obj.name, error: (err as Error)?.message ?? String(err) }));
  };
}

/** A pod as the allocator knows it, as the object of an Event. */
export const podObject = (pod: { namespace: string; name: string; uid: string }): InvolvedObject => ({ apiVersion: 'v1', kind: 'Pod', ...pod });
