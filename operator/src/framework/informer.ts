// A shared informer for one kind: list, then watch from the list's resourceVersion, keeping a cache
// (with indexes) and calling add/update/delete handlers. client-node 2.x ships makeInformer, but it
// stops for good on any non-410 error and has no stall detection, paging or index functions, so this
// is the reflector loop written out (the same shape as client-go's Reflector.ListAndWatch):
//
//   list (paged) ─► replace cache ─► watch from rv ─┬─ server closed / idle timeout ─► watch from rv
//        ▲                                           ├─ 410 Gone (rv too old)          ─► list again
//        │                                           ├─ stall (no progress for N s)     ─► list again
//        └─────────────── backoff ◄──────────────────┴─ any other error  ─► backoff, watch from rv
//
// A watch resumed after an error with an rv that has meanwhile expired gets 410 and relists, so the
// loop never skips events and never needs a human to restart it.
import { Watch } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { objectKey } from './keys.js';
import type { Logger } from './logger.js';

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  _continue?: string;
}

/** Lists the kind, e.g. `(o) => core.listNamespacedConfigMap({ namespace, ...o })`. */
export type ListFn<T extends KubernetesObject> = (opts: ListOptions) => Promise<KubernetesListObject<T>>;

/** Values an object is indexed under (client-go's IndexFunc). */
export type IndexFunc<T extends KubernetesObject> = (obj: T) => string[];

export const NAMESPACE_INDEX = 'namespace';
const byNamespace: IndexFunc<KubernetesObject> = (o) => (o.metadata?.namespace ? [o.metadata.namespace] : []);

export interface EventHandler<T extends KubernetesObject> {
  add?(obj: T): void;
  /** also called with oldObj === newObj for every cached object on each periodic resync */
  update?(oldObj: T, newObj: T): void;
  /** the last state seen (the watch's final state, or the cached one when a relist found it gone) */
  delete?(obj: T): void;
}

export interface BackoffOptions {
  /** default 800 ms (client-go's reflector) */
  initialMs?: number;
  /** default 30 s */
  maxMs?: number;
}

export interface InformerOptions<T extends KubernetesObject> {
  /** for logs and stats, e.g. "configmaps" */
  name: string;
  kubeConfig: KubeConfig;
  /** the collection URL path, e.g. /api/v1/namespaces/x/configmaps or /apis/g/v/plural */
  path: string;
  list: ListFn<T>;
  labelSelector?: string;
  fieldSelector?: string;
  /** list page size; default 500 (client-go's pager) */
  pageSize?: number;
  /** a list that takes longer fails and is retried; default 60 s */
  listTimeoutMs?: number;
  /** re-deliver every cached object as update(o, o); default 0 = off */
  resyncPeriodMs?: number;
  /** server-side end of each watch request; default random in [300, 600) s, like client-go */
  watchTimeoutSeconds?: number;
  /**
   * No event and no successful watch (re)connection for this long → abandon the watch and relist.
   * client-node ends an idle watch after 30 s and we reconnect, so a healthy informer renews at least
   * that often; default 120 s. Keep it above 30 s, or quiet collections relist every stallTimeoutMs.
   */
  stallTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** extra indexes; "namespace" is always there */
  indexers?: Record<string, IndexFunc<T>>;
  log: Logger;
}

export interface InformerStats {
  /** completed lists (the first one, plus every relist) */
  lists: number;
  /** watch requests opened */
  watches: number;
  /** 410 Gone answers (HTTP status or ERROR event) that forced a relist */
  expired: number;
  /** stalls detected (each forced a relist) */
  stalls: number;
  /** failed lists or watches (each followed by a backoff) */
  failures: number;
  resyncs: number;
  resourceVersion: string;
}

type WatchEnd = 'closed' | 'idle' | 'expired' | 'stalled' | 'stopped';

export class Informer<T extends KubernetesObject> {
  private readonly store = new Map<string, T>();
  private snapshotCache: readonly T[] | undefined;
  /** index name → indexed value → keys */
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  private readonly indexFns = new Map<string, IndexFunc<T>>();
  private readonly handlers = new Set<EventHandler<T>>();
  private readonly log: Logger;
  private readonly counters: Omit<InformerStats, 'resourceVersion'> = {
    lists: 0,
    watches: 0,
    expired: 0,
    stalls: 0,
    failures: 0,
    resyncs: 0,
  };
  private rv = '';
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private stopped = true;
  private loop: Promise<void> | undefined;
  private abortWatch: (() => void) | undefined;
  private stallRequested = false;
  private lastProgress = 0;
  /** aborted by stop(): ends sleeps and in-flight lists at once */
  private stopSignal: AbortSignal | undefined;
  private stopController: AbortController | undefined;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly opts: InformerOptions<T>) {
    this.log = opts.log.child({ informer: opts.name });
    this.indexFns.set(NAMESPACE_INDEX, byNamespace);
    for (const [name, fn] of Object.entries(opts.indexers ?? {})) this.indexFns.set(name, fn);
    for (const name of this.indexFns.keys()) this.indices.set(name, new Map());
  }

  /** Registers handlers; returns the function that removes them. Handlers must not mutate objects. */
  addEventHandler(h: EventHandler<T>): () => void {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.stopController = new AbortController();
    this.stopSignal = this.stopController.signal;
    this.loop = this.run();
    const stallMs = this.opts.stallTimeoutMs ?? 120_000;
    this.timers.push(setInterval(() => this.checkStall(stallMs), Math.max(100, Math.min(5_000, stallMs / 4))));
    const resync = this.opts.resyncPeriodMs ?? 0;
    if (resync > 0) this.timers.push(setInterval(() => this.resync(), resync));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.stopController?.abort();
    this.abortWatch?.();
    await this.loop;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once the first list is in the cache and delivered, false after timeoutMs. */
  waitForSync(timeoutMs?: number): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.syncWaiters.push(done);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.syncWaiters = this.syncWaiters.filter((w) => w !== done);
          resolve(false);
        }, timeoutMs);
      }
    });
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  /**
   * The cached objects as one array that stays the same (===) until the cache changes: hot paths
   * that read every object per call (pool selection on each Allocate) neither copy the cache each
   * time nor rebuild what they derive from it (they can memoise on the array's identity).
   */
  snapshot(): readonly T[] {
    return (this.snapshotCache ??= Object.freeze([...this.store.values()]));
  }

  keys(): string[] {
    return [...this.store.keys()];
  }

  /** Objects whose index function returned value, e.g. byIndex('namespace', 'kube-system'). */
  byIndex(indexName: string, value: string): T[] {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`informer ${this.opts.name}: no index named "${indexName}"`);
    const out: T[] = [];
    for (const key of index.get(value) ?? []) {
      const obj = this.store.get(key);
      if (obj) out.push(obj);
    }
    return out;
  }

  stats(): InformerStats {
    return { ...this.counters, resourceVersion: this.rv };
  }

  private async run(): Promise<void> {
    let needList = true;
    let failures = 0;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          failures = 0;
        }
        const end = await this.watchOnce(() => (failures = 0));
        if (end === 'expired') {
          this.counters.expired++;
          this.log.info('watch resourceVersion expired (410 Gone); relisting', { resourceVersion: this.rv });
          needList = true;
        } else if (end === 'stalled') {
          this.counters.stalls++;
          this.log.warn('watch made no progress; relisting', { stallTimeoutMs: this.opts.stallTimeoutMs ?? 120_000 });
          needList = true;
        }
      } catch (error) {
        if (this.stopped) break;
        this.counters.failures++;
        const { initialMs = 800, maxMs = 30_000 } = this.opts.backoff ?? {};
        const retryInMs = Math.min(maxMs, initialMs * 2 ** failures) * (0.5 + Math.random() / 2);
        failures++;
        this.log.warn(needList ? 'list failed; retrying' : 'watch failed; resuming from last resourceVersion', {
          error,
          resourceVersion: this.rv,
          retryInMs: Math.round(retryInMs),
        });
        await this.sleep(retryInMs);
      }
    }
  }

  private async relist(): Promise<void> {
    const items = await this.listAll();
    const fresh = new Map<string, T>();
    for (const obj of items.items) fresh.set(objectKey(obj), obj);
    for (const [key, old] of this.store) {
      if (!fresh.has(key)) {
        this.remove(key, old);
        this.deliver('delete', key, (h) => h.delete?.(old));
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.store.get(key);
      this.put(key, old, obj);
      if (!old) this.deliver('add', key, (h) => h.add?.(obj));
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
        this.deliver('update', key, (h) => h.update?.(old, obj));
      }
    }
    this.rv = items.resourceVersion;
    this.counters.lists++;
    this.lastProgress = performance.now();
    this.log.debug('listed', { count: fresh.size, resourceVersion: this.rv });
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  /** Pages through the collection; a continue token that expired mid-way restarts as one unpaged list. */
  private async listAll(): Promise<{ items: T[]; resourceVersion: string }> {
    const { labelSelector, fieldSelector } = this.opts;
    const base: ListOptions = {
      ...(labelSelector ? { labelSelector } : {}),
      ...(fieldSelector ? { fieldSelector } : {}),
    };
    const items: T[] = [];
    let cont: string | undefined;
    try {
      for (;;) {
        const page = await this.listPage({ ...base, limit: this.opts.pageSize ?? 500, ...(cont ? { _continue: cont } : {}) });
        items.push(...page.items);
        cont = page.metadata?._continue || undefined;
        if (!cont) return { items, resourceVersion: page.metadata?.resourceVersion ?? '' };
      }
    } catch (error) {
      if (!cont || statusCode(error) !== 410) throw error;
      this.log.info('list continue token expired; listing without paging');
    }
    const all = await this.listPage(base);
    return { items: all.items, resourceVersion: all.metadata?.resourceVersion ?? '' };
  }

  private listPage(opts: ListOptions): Promise<KubernetesListObject<T>> {
    const ms = this.opts.listTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const signal = this.stopSignal;
    let onStop: (() => void) | undefined;
    // client-node's list calls take no abort signal: stop waiting (the request finishes unobserved).
    const cut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`list ${this.opts.path} timed out after ${ms} ms`)), ms);
      onStop = () => reject(new Error('informer stopped'));
      signal?.addEventListener('abort', onStop, { once: true });
    });
    return Promise.race([this.opts.list(opts), cut]).finally(() => {
      clearTimeout(timer);
      if (onStop) signal?.removeEventListener('abort', onStop);
    });
  }

  /**
   * One watch request from this.rv. Resolves how it ended when the loop should simply go on
   * (reconnect or relist), rejects on errors that deserve a backoff. onEstablished runs when the
   * server accepted the watch (HTTP 200).
   */
  private watchOnce(onEstablished: () => void): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve, reject) => {
      let ended = false;
      let expired = false;
      let events = 0;
      const openedAt = performance.now();
      let errorEvent: Error | undefined;
      let controller: AbortController | undefined;
      let abortRequested = false;
      this.stallRequested = false;
      this.abortWatch = () => {
        abortRequested = true;
        controller?.abort();
      };

      const onEvent = (type: string, obj: unknown): void => {
        // client-node swallows exceptions thrown from this callback (it treats them as JSON parse
        // errors), so nothing may escape unlogged.
        try {
          if (type === 'ERROR') {
            const status = obj as { code?: number; reason?: string; message?: string };
            if (status.code === 410) expired = true;
            else errorEvent = new Error(`watch ${this.opts.path}: ERROR event ${status.code ?? '?'} ${status.reason ?? ''}: ${status.message ?? ''}`);
            controller?.abort();
            return;
          }
          const o = obj as T;
          const rv = o.metadata?.resourceVersion;
          this.lastProgress = performance.now();
          if (type === 'BOOKMARK') {
            if (rv) this.rv = rv;
            return;
          }
          events++;
          this.apply(type, o);
          if (rv) this.rv = rv;
        } catch (error) {
          this.log.error('watch event handling failed', { type, error });
        }
      };

      const onDone = (err: unknown): void => {
        if (ended) return;
        ended = true;
        this.abortWatch = undefined;
        if (this.stopped) return resolve('stopped');
        if (expired || statusCode(err) === 410) return resolve('expired');
        if (this.stallRequested) return resolve('stalled');
        if (errorEvent) return reject(errorEvent);
        // client-go's "very short watch" guard: a server (or proxy) that closes every watch at once
        // must not turn this loop into a busy loop; treat it as a failure, which backs off.
        if (!err && events === 0 && performance.now() - openedAt < 1_000) {
          return reject(new Error(`watch ${this.opts.path} closed after ${Math.round(performance.now() - openedAt)} ms without events`));
        }
        if (!err) return resolve('closed');
        // client-node aborts a watch that received nothing for 30 s: resume from the last rv.
        if ((err as { name?: string }).name === 'TimeoutError') return resolve('idle');
        reject(err instanceof Error ? err : new Error(String(err)));
      };

      const { labelSelector, fieldSelector } = this.opts;
      this.counters.watches++;
      new Watch(this.opts.kubeConfig)
        .watch(
          this.opts.path,
          {
            resourceVersion: this.rv,
            allowWatchBookmarks: true,
            timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300),
            ...(labelSelector ? { labelSelector } : {}),
            ...(fieldSelector ? { fieldSelector } : {}),
          },
          onEvent,
          onDone,
        )
        .then((ac) => {
          // watch() resolves after the response headers; onDone already ran if the request failed.
          if (ended) return;
          controller = ac;
          this.lastProgress = performance.now();
          onEstablished();
          if (abortRequested) ac.abort();
        }, (error: unknown) => {
          ended = true;
          this.abortWatch = undefined;
          reject(error instanceof Error ? error : new Error(String(error)));
        });
    });
  }

  private apply(type: string, obj: T): void {
    const key = objectKey(obj);
    const old = this.store.get(key);
    if (type === 'ADDED' || type === 'MODIFIED') {
      this.put(key, old, obj);
      if (old) this.deliver('update', key, (h) => h.update?.(old, obj));
      else this.deliver('add', key, (h) => h.add?.(obj));
    } else if (type === 'DELETED') {
      if (old) this.remove(key, old);
      this.deliver('delete', key, (h) => h.delete?.(obj));
    }
  }

  private checkStall(stallMs: number): void {
    if (!this.abortWatch || performance.now() - this.lastProgress < stallMs) return;
    this.stallRequested = true;
    this.abortWatch();
  }

  private resync(): void {
    if (!this.synced) return;
    this.counters.resyncs++;
    for (const [key, obj] of this.store) this.deliver('update', key, (h) => h.update?.(obj, obj));
  }

  private put(key: string, old: T | undefined, obj: T): void {
    if (old) this.unindex(key, old);
    this.store.set(key, obj);
    this.snapshotCache = undefined;
    for (const [name, fn] of this.indexFns) {
      const index = this.indices.get(name);
      if (!index) continue;
      for (const value of fn(obj)) {
        let keys = index.get(value);
        if (!keys) index.set(value, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  private remove(key: string, old: T): void {
    this.unindex(key, old);
    this.store.delete(key);
    this.snapshotCache = undefined;
  }

  private unindex(key: string, old: T): void {
    for (const [name, fn] of this.indexFns) {
      const index = this.indices.get(name);
      if (!index) continue;
      for (const value of fn(old)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }

  /** A throwing handler is logged and skipped; it must not break the cache or the other handlers. */
  private deliver(event: 'add' | 'update' | 'delete', key: string, call: (h: EventHandler<T>) => void): void {
    for (const h of this.handlers) {
      try {
        call(h);
      } catch (error) {
        this.log.error('event handler failed', { event, key, error });
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.stopSignal;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** HTTP status of a failed request: ApiException.code from list calls, statusCode from Watch. */
function statusCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, statusCode: sc } = err as { code?: unknown; statusCode?: unknown };
  if (typeof sc === 'number') return sc;
  return typeof code === 'number' ? code : undefined;
}
