// The range registry's race-freedom: overlapping admissions through several "replicas" (registries
// sharing one compare-and-swap store, with reads and writes interleaved by awaits) admit exactly one;
// disjoint ones all get in; dry runs record nothing; entries of objects that never appeared are
// pruned after the grace period, and only then.
import { type Footprint, fieldMessage, footprintOf, poolConflicts } from '../../src/webhook/footprint.js';
import { type LiveView, RangeRegistry, type RegistryStore, registryKey } from '../../src/webhook/range-registry.js';

/** delay: per-call latency; default random 0-3 ms. Slow reads + instant writes force every replica to read before anyone writes. */
function memoryStore(delay: { readMs?: number; writeMs?: number } = {}): RegistryStore & { data: () => Record<string, string>; force: (next: Record<string, string>) => Promise<boolean>; writes: number; conflicts: number } {
  let data: Record<string, string> | undefined;
  let rv = 0;
  const s = {
    writes: 0,
    conflicts: 0,
    data: () => ({ ...(data ?? {}) }),
    /** Last writer wins: no precondition. */
    force: async (next: Record<string, string>) => {
      data = { ...next };
      rv++;
      return true;
    },
    async read() {
      // The snapshot is taken when the request is served; the answer arrives after the latency.
      const snap = data === undefined ? undefined : { data: { ...data }, resourceVersion: String(rv) };
      await new Promise((r) => setTimeout(r, delay.readMs ?? Math.random() * 3));
      return snap;
    },
    async write(next: Record<string, string>, resourceVersion?: string) {
      await new Promise((r) => setTimeout(r, delay.writeMs ?? Math.random() * 3));
      const current = data === undefined ? undefined : String(rv);
      if (current !== resourceVersion) {
        s.conflicts++;
        return false;
      }
      data = { ...next };
      rv++;
      s.writes++;
      return true;
    },
  };
  return s;
}

const noLive: LiveView = { footprints: () => [], exists: () => false };

function pool(name: string, ips: string[]): Footprint {
  const f = footprintOf('SpiderIPPool', name, { subnet: '10.9.0.0/24', ips });
  if (!('addresses' in f)) throw new Error(fieldMessage(f));
  return f;
}

const admitPool = (r: RangeRegistry, f: Footprint, ips: string[], dryRun = false) => r.admit({ footprint: f, dryRun, check: (others) => poolConflicts(f, ips, others) });

describe('RangeRegistry', () => {
  it('admits exactly one of 20 mutually overlapping pools sent through 3 replicas at once', async () => {
    const store = memoryStore();
    const replicas = [0, 1, 2].map(() => new RangeRegistry({ store, live: noLive }));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const ips = [`10.9.0.${10 + i}-10.9.0.${100 + i}`];
        return admitPool(replicas[i % 3]!, pool(`p${i}`, ips), ips);
      }),
    );
    const admitted = results.filter((e) => e.length === 0);
    expect(admitted).toHaveLength(1);
    for (const e of results.filter((x) => x.length > 0)) expect(e[0]!.field).toMatch(/^spec\.ips\[0\]$/);
    expect(Object.keys(store.data())).toHaveLength(1);
  });

  it('admits exactly one when every replica reads before any writes (the conflict path)', async () => {
    const store = memoryStore({ readMs: 5, writeMs: 0 });
    const replicas = [0, 1, 2].map(() => new RangeRegistry({ store, live: noLive }));
    const results = await Promise.all(
      [0, 1, 2].map((i) => {
        const ips = [`10.9.0.${10 + i}-10.9.0.${100 + i}`];
        return admitPool(replicas[i]!, pool(`c${i}`, ips), ips);
      }),
    );
    expect(results.filter((e) => e.length === 0)).toHaveLength(1);
    expect(store.conflicts).toBe(2);
  });

  it('(control) without the compare-and-swap, replicas admit overlapping pools', async () => {
    // The same race against a store that ignores the resourceVersion (last writer wins): the test
    // above passes because of the CAS, not because the interleaving happens to be harmless.
    const store = memoryStore({ readMs: 5, writeMs: 0 });
    const blind: RegistryStore = { read: () => store.read(), write: (d) => store.force(d) };
    let admittedTotal = 0;
    for (let round = 0; round < 5; round++) {
      const replicas = [0, 1, 2].map(() => new RangeRegistry({ store: blind, live: noLive }));
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => {
          const ips = [`10.9.${round}.${10 + i}-10.9.${round}.${100 + i}`];
          const f = footprintOf('SpiderIPPool', `r${round}-${i}`, { subnet: `10.9.${round}.0/24`, ips });
          if (!('addresses' in f)) throw new Error(fieldMessage(f));
          return admitPool(replicas[i % 3]!, f, ips);
        }),
      );
      admittedTotal += results.filter((e) => e.length === 0).length;
    }
    expect(admittedTotal).toBeGreaterThan(5);
  });

  it('admits every disjoint pool', async () => {
    const store = memoryStore();
    const replicas = [0, 1].map(() => new RangeRegistry({ store, live: noLive }));
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => {
        const ips = [`10.9.0.${i * 10 + 1}-10.9.0.${i * 10 + 9}`];
        return admitPool(replicas[i % 2]!, pool(`d${i}`, ips), ips);
      }),
    );
    expect(results.every((e) => e.length === 0)).toBe(true);
    expect(Object.keys(store.data()).sort()).toEqual(Array.from({ length: 10 }, (_, i) => registryKey('SpiderIPPool', `d${i}`)).sort());
  });

  it('checks a dry run without recording it', async () => {
    const store = memoryStore();
    const r = new RangeRegistry({ store, live: noLive });
    expect(await admitPool(r, pool('a', ['10.9.0.1-10.9.0.5']), ['10.9.0.1-10.9.0.5'], true)).toEqual([]);
    expect(store.writes).toBe(0);
    expect(await admitPool(r, pool('b', ['10.9.0.1-10.9.0.5']), ['10.9.0.1-10.9.0.5'])).toEqual([]);
  });

  it('counts cached objects that are not in the registry (created before the webhook)', async () => {
    const live: LiveView = { footprints: () => [pool('old', ['10.9.0.1'])], exists: (_k, n) => n === 'old' };
    const r = new RangeRegistry({ store: memoryStore(), live });
    const e = await admitPool(r, pool('new', ['10.9.0.1']), ['10.9.0.1']);
    expect(e[0]!.message).toContain('SpiderIPPool old');
  });

  it('prunes an entry whose object never appeared only after the grace period', async () => {
    const store = memoryStore();
    let now = Date.parse('2026-11-21T20:00:00Z');
    const r = new RangeRegistry({ store, live: noLive, graceMs: 60_000, now: () => new Date(now) });
    expect(await admitPool(r, pool('ghost', ['10.9.0.1']), ['10.9.0.1'])).toEqual([]);
    now += 30_000;
    // Still within the grace period: the ghost may be an accepted create the cache has not shown yet.
    expect(await admitPool(r, pool('x', ['10.9.0.1']), ['10.9.0.1'])).toHaveLength(1);
    expect(await admitPool(r, pool('y', ['10.9.0.2']), ['10.9.0.2'])).toEqual([]);
    now += 31_000;
    expect(await admitPool(r, pool('z', ['10.9.0.3']), ['10.9.0.3'])).toEqual([]);
    expect(Object.keys(store.data())).not.toContain(registryKey('SpiderIPPool', 'ghost'));
    expect(await admitPool(r, pool('x', ['10.9.0.1']), ['10.9.0.1'])).toEqual([]);
  });

  it('keys a 253-character name within the ConfigMap key limit and still finds it by name', async () => {
    const store = memoryStore();
    const r = new RangeRegistry({ store, live: noLive });
    const long = `p${'x'.repeat(252)}`;
    expect(await admitPool(r, pool(long, ['10.9.0.1']), ['10.9.0.1'])).toEqual([]);
    const [key] = Object.keys(store.data());
    expect(key!.length).toBeLessThanOrEqual(253);
    // Its own update is not refused by its own entry; another pool is, and is told the full name.
    expect(await admitPool(r, pool(long, ['10.9.0.1-10.9.0.2']), ['10.9.0.1-10.9.0.2'])).toEqual([]);
    expect(Object.keys(store.data())).toEqual([key]);
    expect((await admitPool(r, pool('other', ['10.9.0.2']), ['10.9.0.2']))[0]!.message).toContain(`SpiderIPPool ${long}`);
  });

  it('gives up with an error after losing the write race too often', async () => {
    const store: RegistryStore = { read: async () => ({ data: {}, resourceVersion: '1' }), write: async () => false };
    const r = new RangeRegistry({ store, live: noLive, maxAttempts: 3 });
    await expect(admitPool(r, pool('a', ['10.9.0.1']), ['10.9.0.1'])).rejects.toThrow(/lost the write race 3 times/);
  });
});
