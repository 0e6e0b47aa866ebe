// Per-node pod workers, like a kubelet's: one key (pod UID) is never synced concurrently, at most
// `concurrency` keys run at once, a key that fails is retried with exponential backoff, and an event
// for a key that is being synced marks it dirty so it runs again right after.
export interface QueueOptions {
  concurrency: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export class KeyedQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly opts: QueueOptions,
    private readonly handler: (key: string) => Promise<void>,
    private readonly onError: (key: string, err: unknown, attempt: number, retryInMs: number) => void,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    const t = this.timers.get(key);
    if (t) {
      clearTimeout(t);
      this.timers.delete(key);
    }
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  addAfter(key: string, ms: number): void {
    if (this.stopped || this.timers.has(key)) return;
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    t.unref();
    this.timers.set(key, t);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  inFlight(): number {
    return this.running.size;
  }

  pending(): number {
    return this.queue.length + this.timers.size;
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.opts.concurrency && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.running.add(key);
      void this.runOne(key);
    }
  }

  private async runOne(key: string): Promise<void> {
    let failed = false;
    try {
      await this.handler(key);
      this.failures.delete(key);
    } catch (err) {
      failed = true;
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** (n - 1));
      this.onError(key, err, n, delay);
      if (!this.stopped) this.addAfter(key, delay);
    } finally {
      this.running.delete(key);
      if (this.dirty.delete(key) && !failed) this.add(key);
      this.pump();
      if (this.running.size === 0) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const f of w) f();
      }
    }
  }

  /** Stops taking work; resolves when in-flight syncs are done or after `timeoutMs`. */
  async shutdown(timeoutMs: number): Promise<boolean> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    if (this.running.size === 0) return true;
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }
}
