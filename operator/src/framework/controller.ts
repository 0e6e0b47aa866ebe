// A controller: sources (informers) → keyed work queue → N workers calling a reconciler.
//
// The contract (controller-runtime's): reconcile(key) reads the current state from caches/API and
// makes the world match; it is idempotent and level-triggered (it gets a key, never an event).
//  - returns {} or nothing  → done; the key's backoff is reset;
//  - returns {requeueAfterMs} → done, look again after that delay (periodic checks, waiting on time);
//  - throws                → logged with the object's identity, retried with per-key exponential
//                            backoff. One bad object never stops the others and is never dropped.
// A key is never reconciled by two workers at once (the queue guarantees it), so a reconciler needs
// no per-object locking.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Informer } from './informer.js';
import { objectKey } from './keys.js';
import { describeError, objectLogger } from './logger.js';
import type { KeyFields, Logger } from './logger.js';
import { WorkQueue } from './workqueue.js';
import type { RateLimiter } from './workqueue.js';

export interface ReconcileResult {
  /** reconcile this key again after the delay, even if nothing changes */
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  /** carries {controller, namespace, name} */
  log: Logger;
  /** aborted when the controller stops (shutdown or lost leadership): stop starting new writes */
  signal: AbortSignal;
  /** consecutive failures of this key so far (0 on a first or successful-last attempt) */
  retries: number;
}

export type Reconcile = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult | void>;

/** Where keys come from: subscribe to changes, and list everything once at (re)start. */
export interface Source {
  subscribe(enqueue: (key: string) => void): () => void;
  keys(): string[];
  hasSynced(): boolean;
}

/**
 * An informer as a source. map turns an object into the keys to reconcile (default: its own key);
 * e.g. a Pod → the key of its owning workload. On update both the old and the new object's keys are
 * queued, so a change of owner or label reaches both sides.
 */
export function informerSource<T extends KubernetesObject>(informer: Informer<T>, map: (obj: T) => string[] = (o) => [objectKey(o)]): Source {
  return {
    subscribe(enqueue) {
      const each = (...objs: T[]) => {
        for (const k of new Set(objs.flatMap(map))) enqueue(k);
      };
      return informer.addEventHandler({
        add: (o) => each(o),
        update: (oldObj, newObj) => (oldObj === newObj ? each(newObj) : each(oldObj, newObj)),
        delete: (o) => each(o),
      });
    },
    keys: () => informer.list().flatMap(map),
    hasSynced: () => informer.hasSynced(),
  };
}

export interface ControllerOptions {
  name: string;
  reconcile: Reconcile;
  sources: Source[];
  /** concurrent workers (distinct keys in parallel); default 1, like controller-runtime */
  workers?: number;
  /** per-key retry backoff; default 5 ms doubling to 1000 s */
  rateLimiter?: () => RateLimiter;
  log: Logger;
  /** What a key names, for each line's log fields; default: client-go's "namespace/name" or "name". */
  keyFields?: (key: string) => KeyFields;
  /** one call per reconcile, for metrics */
  onResult?: (r: { controller: string; key: string; durationMs: number; error?: unknown }) => void;
}

export class Controller {
  readonly name: string;
  private readonly log: Logger;
  private queue: WorkQueue | undefined;
  private unsubscribe: (() => void)[] = [];
  private readonly observers: NonNullable<ControllerOptions['onResult']>[] = [];
  private workers: Promise<void>[] = [];
  private stopController: AbortController | undefined;

  constructor(private readonly opts: ControllerOptions) {
    this.name = opts.name;
    this.log = opts.log.child({ controller: opts.name });
  }

  hasSynced(): boolean {
    return this.opts.sources.every((s) => s.hasSynced());
  }

  isRunning(): boolean {
    return this.queue !== undefined;
  }

  /** Queue depth etc. for metrics; zeros while stopped. */
  stats(): { depth: number; processing: number; delayed: number } {
    return this.queue?.stats() ?? { depth: 0, processing: 0, delayed: 0 };
  }

  /** Adds a callback for every reconcile (like opts.onResult), e.g. the manager's metrics. */
  observeReconciles(fn: NonNullable<ControllerOptions['onResult']>): void {
    this.observers.push(fn);
  }

  /** Enqueues a key from outside the sources (e.g. a gRPC handler asking for a pool reconcile). */
  enqueue(key: string): void {
    this.queue?.add(key);
  }

  /**
   * Starts workers on a fresh queue and queues every key the sources know: after a restart (or a new
   * leadership term) everything is looked at once, since events seen while stopped were not queued.
   */
  start(): void {
    if (this.queue) return;
    const queue = new WorkQueue(this.opts.rateLimiter ? { rateLimiter: this.opts.rateLimiter() } : {});
    this.queue = queue;
    this.stopController = new AbortController();
    const enqueue = (k: string) => queue.add(k);
    this.unsubscribe = this.opts.sources.map((s) => s.subscribe(enqueue));
    for (const s of this.opts.sources) for (const k of s.keys()) queue.add(k);
    const signal = this.stopController.signal;
    this.workers = Array.from({ length: this.opts.workers ?? 1 }, () => this.work(queue, signal));
    this.log.info('controller started', { workers: this.workers.length, queued: queue.stats().depth });
  }

  /**
   * Stops taking keys, aborts the context signal, lets in-flight reconciles finish (bounded by
   * drainTimeoutMs). Resolves true if everything drained in time.
   */
  async stop(drainTimeoutMs = 30_000): Promise<boolean> {
    const queue = this.queue;
    if (!queue) return true;
    for (const u of this.unsubscribe.splice(0)) u();
    this.stopController?.abort(new Error(`controller ${this.name} stopping`));
    const drained = await queue.shutDown(drainTimeoutMs);
    if (drained) await Promise.all(this.workers);
    else this.log.warn('controller stopped before its reconciles finished', { drainTimeoutMs, ...queue.stats() });
    this.workers = [];
    this.queue = undefined;
    this.log.info('controller stopped', { drained });
    return drained;
  }

  private report(key: string, durationMs: number, failure: { error: unknown } | undefined): void {
    for (const hook of this.opts.onResult ? [this.opts.onResult, ...this.observers] : this.observers) {
      try {
        hook({ controller: this.name, key, durationMs, ...failure });
      } catch (error) {
        this.log.warn('onResult hook failed', { error });
      }
    }
  }

  private async work(queue: WorkQueue, signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const log = objectLogger(this.opts.log, this.name, key, this.opts.keyFields);
      const retries = queue.numRequeues(key);
      const started = performance.now();
      let failure: { error: unknown } | undefined;
      try {
        const result = await this.opts.reconcile(key, { log, signal, retries });
        queue.forget(key);
        if (result?.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
      } catch (error) {
        failure = { error };
        const retryInMs = queue.addRateLimited(key);
        // After stop() the key is not lost: the next start() queues every key the sources know.
        log.error(retryInMs === undefined ? 'reconcile failed; not retried (controller stopping)' : 'reconcile failed; retrying with backoff', {
          error: error instanceof Error ? describeError(error) : { message: String(error) },
          retries: retries + 1,
          ...(retryInMs === undefined ? {} : { retryInMs }),
        });
      } finally {
        queue.done(key);
      }
      this.report(key, performance.now() - started, failure);
    }
  }
}
