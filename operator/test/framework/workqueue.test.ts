import { jest } from '@jest/globals';
import { ExponentialBackoff, WorkQueue } from '../../src/framework/workqueue.js';

/** Takes every key currently queued (they are then held until done()). */
async function drainQueued(q: WorkQueue): Promise<string[]> {
  const out: string[] = [];
  while (q.stats().depth > 0) {
    const k = await q.get();
    if (k === undefined) break;
    out.push(k);
  }
  return out;
}

describe('WorkQueue: dedup and exclusivity', () => {
  test('a key added many times while queued is handed out once, in first-add order', async () => {
    const q = new WorkQueue();
    for (const k of ['a', 'b', 'a', 'c', 'b', 'a']) q.add(k);
    expect(q.stats().depth).toBe(3);
    expect(await drainQueued(q)).toEqual(['a', 'b', 'c']);
  });

  test('an add during processing is not handed to a second worker; it is re-queued at done()', async () => {
    const q = new WorkQueue();
    q.add('a');
    const first = await q.get();
    expect(first).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.stats()).toEqual({ depth: 0, processing: 1, delayed: 0 });
    // A second worker waiting now must not get 'a'.
    let second: string | undefined | null = null;
    void q.get().then((k) => (second = k));
    await new Promise((r) => setImmediate(r));
    expect(second).toBeNull();
    q.done('a');
    await new Promise((r) => setImmediate(r));
    expect(second).toBe('a');
    q.done('a');
    expect(q.stats()).toEqual({ depth: 0, processing: 0, delayed: 0 });
  });

  test('adds in one synchronous burst coalesce even when a worker is already waiting', async () => {
    const q = new WorkQueue();
    const got: string[] = [];
    const worker = (async () => {
      for (;;) {
        const k = await q.get();
        if (k === undefined) return;
        got.push(k);
        q.done(k);
      }
    })();
    await new Promise((r) => setImmediate(r)); // the worker is parked in get()
    q.add('a'); // e.g. an update event queues the old and the new object's key
    q.add('a');
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual(['a']);
    await q.shutDown();
    await worker;
  });

  test('N concurrent workers never hold the same key at once, and every add is followed by a pass', async () => {
    const q = new WorkQueue();
    const holding = new Set<string>();
    let overlaps = 0;
    let passes = 0;
    const lastPassAfterAdd = new Map<string, boolean>();
    const worker = async () => {
      for (;;) {
        const k = await q.get();
        if (k === undefined) return;
        if (holding.has(k)) overlaps++;
        holding.add(k);
        lastPassAfterAdd.set(k, true);
        await new Promise((r) => setImmediate(r));
        passes++;
        holding.delete(k);
        q.done(k);
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    for (let i = 0; i < 500; i++) {
      const k = `k${i % 5}`;
      lastPassAfterAdd.set(k, false);
      q.add(k);
      if (i % 7 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(await q.shutDown(5_000)).toBe(true);
    await Promise.all(workers);
    expect(overlaps).toBe(0);
    expect(passes).toBeGreaterThanOrEqual(5);
    // The last add of every key was followed by a pass that started after it.
    expect([...lastPassAfterAdd.values()].every(Boolean)).toBe(true);
  });
});

describe('WorkQueue: backoff', () => {
  test('per-item exponential growth from 5 ms, capped, independent per key, reset by forget', () => {
    const rl = new ExponentialBackoff();
    expect([1, 2, 3, 4, 5].map(() => rl.when('a'))).toEqual([5, 10, 20, 40, 80]);
    expect(rl.when('b')).toBe(5);
    expect(rl.numRequeues('a')).toBe(5);
    for (let i = 0; i < 100; i++) rl.when('a');
    expect(rl.when('a')).toBe(1_000_000);
    rl.forget('a');
    expect(rl.numRequeues('a')).toBe(0);
    expect(rl.when('a')).toBe(5);
  });

  test('configurable base and cap', () => {
    const rl = new ExponentialBackoff({ baseDelayMs: 100, maxDelayMs: 350 });
    expect([1, 2, 3, 4].map(() => rl.when('x'))).toEqual([100, 200, 350, 350]);
  });

  describe('with fake timers', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    test('addRateLimited delays the retry by the growing backoff; forget restarts it', async () => {
      const q = new WorkQueue({ rateLimiter: new ExponentialBackoff({ baseDelayMs: 10, maxDelayMs: 1000 }) });
      expect(q.addRateLimited('a')).toBe(10);
      expect(q.stats()).toEqual({ depth: 0, processing: 0, delayed: 1 });
      jest.advanceTimersByTime(9);
      expect(q.stats().depth).toBe(0);
      jest.advanceTimersByTime(1);
      expect(q.stats().depth).toBe(1);
      expect(await q.get()).toBe('a');
      expect(q.addRateLimited('a')).toBe(20); // while processing: re-queued at done() once due
      q.done('a');
      jest.advanceTimersByTime(20);
      expect(await q.get()).toBe('a');
      q.forget('a');
      expect(q.numRequeues('a')).toBe(0);
      expect(q.addRateLimited('a')).toBe(10);
      q.done('a');
    });

    test('addAfter hands keys out in due order; a shorter delay for a pending key wins, a longer one does not', async () => {
      const q = new WorkQueue();
      q.addAfter('late', 300);
      q.addAfter('early', 100);
      q.addAfter('mid', 200);
      q.addAfter('late', 50); // earlier: replaces 300
      q.addAfter('early', 1_000); // later: ignored
      expect(q.stats().delayed).toBe(3);
      jest.advanceTimersByTime(300);
      expect(await drainQueued(q)).toEqual(['late', 'early', 'mid']);
      jest.advanceTimersByTime(10_000);
      expect(q.stats()).toEqual({ depth: 0, processing: 3, delayed: 0 });
    });

    test('addAfter(0) adds at once', () => {
      const q = new WorkQueue();
      q.addAfter('a', 0);
      expect(q.stats().depth).toBe(1);
    });
  });
});

describe('WorkQueue: shutDown and drain', () => {
  test('stops accepting, still hands out queued keys, finishes in-flight, then resolves true', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.addAfter('later', 60_000);
    const held = await q.get();
    let drained: boolean | undefined;
    const p = q.shutDown().then((d) => (drained = d));
    expect(q.add('c')).toBe(false);
    expect(q.addAfter('d', 1)).toBe(false);
    expect(q.addRateLimited('e')).toBeUndefined();
    expect(q.stats()).toEqual({ depth: 1, processing: 1, delayed: 0 }); // delayed adds dropped
    expect(await q.get()).toBe('b');
    q.done('b');
    await Promise.resolve();
    expect(drained).toBeUndefined(); // 'a' still in flight
    q.done(held as string);
    await p;
    expect(drained).toBe(true);
    expect(await q.get()).toBeUndefined();
  });

  test('a key re-added before shutDown while in flight is still processed during the drain', async () => {
    const q = new WorkQueue();
    q.add('a');
    await q.get();
    q.add('a');
    const p = q.shutDown();
    q.done('a');
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(await p).toBe(true);
  });

  test('idle workers waiting in get() are released with undefined', async () => {
    const q = new WorkQueue();
    const waiting = [q.get(), q.get()];
    expect(await q.shutDown()).toBe(true);
    expect(await Promise.all(waiting)).toEqual([undefined, undefined]);
  });

  test('resolves false when in-flight work outlasts the drain timeout', async () => {
    jest.useFakeTimers();
    try {
      const q = new WorkQueue();
      q.add('stuck');
      await q.get();
      const p = q.shutDown(1_000);
      jest.advanceTimersByTime(1_000);
      expect(await p).toBe(false);
    } finally {
      jest.useRealTimers();
    }
  });
});
