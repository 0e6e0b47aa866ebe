// The controller's contract with a hand-driven source (no API server): results, errors, requeues,
// restart re-queues everything, metrics hook.
import { Writable } from 'node:stream';
import { Controller } from '../../src/framework/controller.js';
import type { Reconcile, Source } from '../../src/framework/controller.js';
import { createLogger } from '../../src/framework/logger.js';
import { ExponentialBackoff } from '../../src/framework/workqueue.js';

const log = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });

function source(initial: string[]): Source & { emit(key: string): void; subscribers: number } {
  let subs: ((k: string) => void)[] = [];
  return {
    subscribe(enqueue) {
      subs.push(enqueue);
      return () => (subs = subs.filter((s) => s !== enqueue));
    },
    keys: () => initial,
    hasSynced: () => true,
    emit: (k) => subs.forEach((s) => s(k)),
    get subscribers() {
      return subs.length;
    },
  };
}

const until = async (cond: () => boolean, ms = 2_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('Controller (unit)', () => {
  test('start queues every known key; a throwing key is retried with backoff while others succeed; onResult sees both', async () => {
    const src = source(['ns/a', 'ns/b', 'ns/c']);
    const calls: string[] = [];
    const results: { key: string; failed: boolean }[] = [];
    let bFailures = 3;
    const reconcile: Reconcile = async (key, ctx) => {
      calls.push(`${key}#${ctx.retries}`);
      if (key === 'ns/b' && bFailures-- > 0) throw new Error('b broken');
    };
    const ctl = new Controller({
      name: 't',
      reconcile,
      sources: [src],
      workers: 2,
      rateLimiter: () => new ExponentialBackoff({ baseDelayMs: 1, maxDelayMs: 10 }),
      log,
      onResult: (r) => results.push({ key: r.key, failed: 'error' in r }),
    });
    ctl.start();
    await until(() => calls.includes('ns/b#3'));
    expect(calls.filter((c) => c.startsWith('ns/b'))).toEqual(['ns/b#0', 'ns/b#1', 'ns/b#2', 'ns/b#3']);
    expect(calls).toContain('ns/a#0');
    expect(calls).toContain('ns/c#0');
    expect(results.filter((r) => r.key === 'ns/b' && r.failed)).toHaveLength(3);
    expect(await ctl.stop()).toBe(true);
    expect(src.subscribers).toBe(0);
  });

  test('a non-Error throw is still retried', async () => {
    const src = source(['k']);
    let n = 0;
    const ctl = new Controller({
      name: 't',
      sources: [src],
      log,
      rateLimiter: () => new ExponentialBackoff({ baseDelayMs: 1 }),
      reconcile: async () => {
        if (n++ === 0) throw 'a string';
      },
    });
    ctl.start();
    await until(() => n === 2);
    await ctl.stop();
  });

  test('events enqueue while running only; a restart re-queues all known keys', async () => {
    const src = source(['x']);
    const calls: string[] = [];
    const ctl = new Controller({ name: 't', sources: [src], log, reconcile: async (k) => void calls.push(k) });
    ctl.start();
    src.emit('y');
    await until(() => calls.length === 2);
    await ctl.stop();
    src.emit('z'); // not subscribed while stopped
    ctl.start();
    await until(() => calls.length === 3);
    expect(calls).toEqual(['x', 'y', 'x']);
    ctl.enqueue('manual');
    await until(() => calls.length === 4);
    await ctl.stop();
    expect(ctl.stats()).toEqual({ depth: 0, processing: 0, delayed: 0 });
  });
});
