// A keyed, rate-limited work queue with client-go's semantics (util/workqueue):
//  - dedup: a key queued twice is processed once;
//  - exclusivity: a key handed to a worker is not handed to another until done(key); an add() while it
//    is being processed marks it dirty and re-queues it at done(), so the latest state is reconciled
//    after the current pass instead of concurrently with it;
//  - per-item exponential backoff (addRateLimited / forget / numRequeues) and delayed adds (addAfter);
//  - shutDown with drain: stop accepting, let workers finish what they hold and what is queued.
// Keys are strings (namespace/name): the queue carries identities, never object snapshots, so a
// worker always reads the newest state from the informer cache.

export interface RateLimiter {
  /** delay before the key's next retry; counts one more failure */
  when(key: string): number;
  forget(key: string): void;
  numRequeues(key: string): number;
}

export interface ExponentialBackoffOptions {
  /** first retry delay; default 5 ms (controller-runtime's default) */
  baseDelayMs?: number;
  /** cap; default 1000 s (controller-runtime's default) */
  maxDelayMs?: number;
}

/** client-go's ItemExponentialFailureRateLimiter: base * 2^failures, capped. */
export class ExponentialBackoff implements RateLimiter {
  private readonly failures = new Map<string, number>();
  private readonly base: number;
  private readonly max: number;

  constructor(opts: ExponentialBackoffOptions = {}) {
    this.base = opts.baseDelayMs ?? 5;
    this.max = opts.maxDelayMs ?? 1_000_000;
  }

  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2^n overflows to Infinity for large n; min() keeps the cap exact.
    return Math.min(this.max, this.base * 2 ** n);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

export interface WorkQueueOptions {
  rateLimiter?: RateLimiter;
}

export interface WorkQueueStats {
  /** keys waiting for a worker (the depth metric) */
  depth: number;
  /** keys a worker holds right now */
  processing: number;
  /** keys scheduled by addAfter / addRateLimited that are not due yet */
  delayed: number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  /** keys that need processing: queued, or re-added while being processed */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  /** pending delayed adds; one per key, the earliest wins (client-go's delaying queue) */
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly rateLimiter: RateLimiter;
  private shuttingDown = false;
  private dispatchScheduled = false;
  private drainWaiters: (() => void)[] = [];

  constructor(opts: WorkQueueOptions = {}) {
    this.rateLimiter = opts.rateLimiter ?? new ExponentialBackoff();
  }

  /** Queues key unless it is already queued; false once the queue is shutting down. */
  add(key: string): boolean {
    if (this.shuttingDown) return false;
    if (this.dirty.has(key)) return true;
    this.dirty.add(key);
    // Held by a worker: done() re-queues it, so two workers never hold one key.
    if (!this.processing.has(key)) {
      this.queue.push(key);
      this.dispatch();
    }
    return true;
  }

  /** Queues key after delayMs (requeueAfter). A shorter pending delay for the same key wins. */
  addAfter(key: string, delayMs: number): boolean {
    if (this.shuttingDown) return false;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return true;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { at, timer });
    return true;
  }

  /** Queues key after its per-item backoff; returns the delay chosen, or undefined after shutDown. */
  addRateLimited(key: string): number | undefined {
    if (this.shuttingDown) return undefined;
    const delay = this.rateLimiter.when(key);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets key's backoff (call after a successful reconcile). */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /**
   * The next key for a worker, which then holds it until done(key). Resolves undefined once the
   * queue is shutting down and has nothing left to hand out: the worker should exit.
   */
  get(): Promise<string | undefined> {
    const key = this.take();
    if (key !== undefined) return Promise.resolve(key);
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The worker finished key; if it was re-added meanwhile it goes back on the queue now. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.queue.push(key);
      this.dispatch();
    }
    this.checkDrained();
  }

  stats(): WorkQueueStats {
    return { depth: this.queue.length, processing: this.processing.size, delayed: this.delayed.size };
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops accepting keys and drops pending delayed adds (they are future work; whoever runs next
   * resyncs from the cache). Already-queued keys are still handed out and in-flight ones finish.
   * Resolves true when the queue is empty and no worker holds a key, false if drainTimeoutMs passed
   * first (default: wait as long as it takes).
   */
  shutDown(drainTimeoutMs?: number): Promise<boolean> {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    // Idle workers wait only when the queue is empty: tell them to exit.
    for (const w of this.waiters.splice(0)) w(undefined);
    if (this.isDrained()) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const onDrained = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.drainWaiters.push(onDrained);
      if (drainTimeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.drainWaiters = this.drainWaiters.filter((w) => w !== onDrained);
          resolve(false);
        }, drainTimeoutMs);
      }
    });
  }

  private take(): string | undefined {
    const key = this.queue.shift();
    if (key === undefined) return undefined;
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }

  /**
   * Hands queued keys to idle workers in a microtask, not synchronously: one event often adds the
   * same key several times (an update queues the old and the new object's keys), and a worker that
   * took the first add at once would turn the second into a needless extra pass.
   */
  private dispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    queueMicrotask(() => {
      this.dispatchScheduled = false;
      while (this.waiters.length > 0 && this.queue.length > 0) {
        this.waiters.shift()?.(this.take());
      }
    });
  }

  private isDrained(): boolean {
    return this.queue.length === 0 && this.processing.size === 0;
  }

  private checkDrained(): void {
    if (!this.shuttingDown || !this.isDrained()) return;
    for (const w of this.drainWaiters.splice(0)) w();
  }
}
