// List+watch of the pods bound to one node (fieldSelector spec.nodeName=<node>), as the kubelet's
// apiserver pod source: relist on 410 Gone, reconnect from the last resourceVersion on the client's
// 30 s idle timeout or a server-side close, back off on errors, never give up (client-node's
// informer stops on non-410 errors, hence this small reflector).
import type { V1Pod } from '@kubernetes/client-node';
import { Watch } from '@kubernetes/client-node';
import type { Clients } from './kube.js';
import { apiCode, apiMessage, sleep } from './kube.js';
import type { Logger } from './log.js';

export type PodEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export type PodHandler = (type: PodEventType, pod: V1Pod) => void;

class Expired extends Error {}

export class PodReflector {
  private readonly known = new Map<string, V1Pod>();
  private rv = '';
  private abort: AbortController | undefined;
  private stopped = false;
  private synced = false;
  relists = 0;
  watches = 0;

  constructor(
    private readonly clients: Clients,
    private readonly fieldSelector: string,
    private readonly handler: PodHandler,
    private readonly log: Logger,
    private readonly onSynced: () => void = () => undefined,
  ) {}

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private async loop(): Promise<void> {
    let needList = true;
    let backoff = 0;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        await this.watchOnce();
        backoff = 0;
      } catch (e) {
        if (this.stopped) return;
        if (e instanceof Expired || apiCode(e) === 410) {
          this.log.info('watch expired, relisting', { fieldSelector: this.fieldSelector });
          needList = true;
          continue;
        }
        backoff = Math.min(30_000, backoff ? backoff * 2 : 500);
        this.log.warn('pod list/watch failed, retrying', { fieldSelector: this.fieldSelector, error: apiMessage(e), retryInMs: backoff });
        await sleep(backoff);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.clients.core.listPodForAllNamespaces({ fieldSelector: this.fieldSelector });
    this.relists++;
    const seen = new Set<string>();
    for (const pod of list.items) {
      const uid = pod.metadata?.uid;
      if (!uid) continue;
      seen.add(uid);
      const had = this.known.has(uid);
      this.known.set(uid, pod);
      this.handler(had ? 'MODIFIED' : 'ADDED', pod);
    }
    for (const [uid, pod] of this.known) {
      if (!seen.has(uid)) {
        this.known.delete(uid);
        this.handler('DELETED', pod);
      }
    }
    this.rv = list.metadata?.resourceVersion ?? '';
    if (!this.synced) {
      this.synced = true;
      this.onSynced();
    }
  }

  private watchOnce(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let expired = false;
      const watch = new Watch(this.clients.kc);
      this.watches++;
      const onEvent = (type: string, obj: unknown): void => {
        if (type === 'BOOKMARK') {
          const rv = (obj as V1Pod).metadata?.resourceVersion;
          if (rv) this.rv = rv;
          return;
        }
        if (type === 'ERROR') {
          const status = obj as { code?: number; message?: string };
          if (status.code === 410) expired = true;
          else this.log.warn('watch ERROR event', { status });
          return;
        }
        const pod = obj as V1Pod;
        const uid = pod.metadata?.uid;
        if (pod.metadata?.resourceVersion) this.rv = pod.metadata.resourceVersion;
        if (!uid) return;
        if (type === 'DELETED') {
          this.known.delete(uid);
          this.handler('DELETED', pod);
        } else if (type === 'ADDED' || type === 'MODIFIED') {
          this.known.set(uid, pod);
          this.handler(type, pod);
        }
      };
      const onDone = (err: unknown): void => {
        this.abort = undefined;
        if (expired) return reject(new Expired('resourceVersion expired'));
        if (!err || this.stopped) return resolve();
        // client-node ends an idle watch after 30 s with a TimeoutError: just reconnect.
        if ((err as { name?: string }).name === 'TimeoutError' || (err as { name?: string }).name === 'AbortError') return resolve();
        reject(err);
      };
      watch
        .watch(
          '/api/v1/pods',
          {
            fieldSelector: this.fieldSelector,
            resourceVersion: this.rv,
            allowWatchBookmarks: true,
            timeoutSeconds: 300 + Math.floor(Math.random() * 300),
          },
          onEvent,
          onDone,
        )
        .then(
          (ac) => {
            this.abort = ac;
            if (this.stopped) ac.abort();
          },
          reject,
        );
    });
  }
}
