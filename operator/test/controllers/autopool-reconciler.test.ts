// The auto-pool reconciler over in-memory fakes (API writes with resourceVersion CAS, caches that
// follow the writes when told to, an allocator usage view): carving from the ledger, the two-step
// shrink that never gives back an address in use, reclaim, and concurrent carvings on one subnet.
import { Writable } from 'node:stream';
import type { SpiderIPPool } from '../../src/api/v2beta1/types.js';
import { type AutoPoolIO, ConflictError, type PoolObject, type SubnetObject } from '../../src/controllers/autopool/kube-io.js';
import type { PoolUsage } from '../../src/controllers/autopool/pool-usage.js';
import { AutoPoolReconciler } from '../../src/controllers/autopool/reconciler.js';
import { SubnetLedger } from '../../src/controllers/autopool/subnet-ledger.js';
import type { WorkloadInformers } from '../../src/controllers/autopool/workloads.js';
import { IPSet } from '../../src/core/ip/index.js';
import { parseControlledIPPools } from '../../src/core/subnet/index.js';
import type { Informer } from '../../src/framework/informer.js';
import { createLogger } from '../../src/framework/logger.js';

const log = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });
const ctx = { log, signal: new AbortController().signal, retries: 0 };

class FakeCache<T extends { metadata?: { name?: string; namespace?: string } }> {
  readonly items = new Map<string, T>();
  get(key: string): T | undefined {
    return this.items.get(key);
  }
  list(): T[] {
    return [...this.items.values()];
  }
  put(o: T): void {
    const m = o.metadata ?? {};
    this.items.set(m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? ''), o);
  }
}

/** The API: subnets with status CAS, pools; `sync()` copies it into the caches (an informer catching up). */
class FakeApi implements AutoPoolIO {
  subnets = new Map<string, SubnetObject>();
  pools = new Map<string, PoolObject>();
  rv = 1;
  writes = 0;
  constructor(
    private readonly poolCache: FakeCache<PoolObject>,
    private readonly subnetCache: FakeCache<SubnetObject>,
  ) {}
  sync(): void {
    this.poolCache.items.clear();
    for (const p of this.pools.values()) this.poolCache.put(structuredClone(p));
    for (const s of this.subnets.values()) this.subnetCache.put(structuredClone(s));
  }
  async getSubnet(name: string) {
    const s = this.subnets.get(name);
    return s && structuredClone(s);
  }
  async replaceSubnetStatus(s: SubnetObject) {
    const cur = this.subnets.get(s.metadata!.name!)!;
    if (cur.metadata!.resourceVersion !== s.metadata!.resourceVersion) throw new ConflictError('changed');
    this.writes++;
    const next = { ...cur, status: s.status, metadata: { ...cur.metadata, resourceVersion: String(++this.rv) } };
    this.subnets.set(next.metadata.name!, next);
    return structuredClone(next);
  }
  async createPool(p: SpiderIPPool) {
    if (this.pools.has(p.metadata.name!)) throw new ConflictError('exists');
    const o = { ...structuredClone(p), metadata: { ...p.metadata, uid: `uid-${p.metadata.name}`, resourceVersion: String(++this.rv) } } as PoolObject;
    this.pools.set(p.metadata.name!, o);
    return structuredClone(o);
  }
  async patchPool(name: string, patch: { metadata?: { labels?: Record<string, string> }; spec?: object }) {
    const cur = this.pools.get(name)!;
    const o = {
      ...cur,
      metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, ...(patch.metadata?.labels ?? {}) }, resourceVersion: String(++this.rv) },
      spec: { ...cur.spec, ...(patch.spec ?? {}) },
    } as PoolObject;
    this.pools.set(name, o);
    return structuredClone(o);
  }
  async deletePool(name: string) {
    this.pools.delete(name);
  }
}

class FakeUsage implements PoolUsage {
  held_ = new Map<string, IPSet>();
  served_ = new Map<string, IPSet>();
  withdrawn: string[][] = [];
  held(pool: string) {
    return this.served_.has(pool) ? (this.held_.get(pool) ?? IPSet.empty(4)) : undefined;
  }
  served(pool: string) {
    return this.served_.get(pool);
  }
  allocated(pool: string) {
    return Number(this.held_.get(pool)?.count ?? 0n);
  }
  withdraw(pool: SpiderIPPool) {
    const next = IPSet.parse(4, pool.spec.ips ?? []);
    const lost = (this.held_.get(pool.metadata.name!) ?? IPSet.empty(4)).subtract(next);
    if (!lost.isEmpty) return `held: ${lost.toStrings()}`;
    this.withdrawn.push(pool.spec.ips ?? []);
    this.served_.set(pool.metadata.name!, next);
    return undefined;
  }
  /** The allocator-term controller loading a pool's spec. */
  load(p: PoolObject) {
    this.served_.set(p.metadata.name!, IPSet.parse(4, p.spec.ips ?? []));
  }
}

function deployment(name: string, replicas: number, annotations: Record<string, string>, uid = `uid-${name}-0000-0000-abcdef123456`) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'ns', uid },
    spec: { replicas, selector: {}, template: { metadata: { annotations: { 'ipam.spidernet.io/subnet': '{"ipv4":["sub"]}', ...annotations } } } },
  };
}

function setup(reserved: string[] = []) {
  const poolCache = new FakeCache<PoolObject>();
  const subnetCache = new FakeCache<SubnetObject>();
  const deployments = new FakeCache<object & { metadata: { name: string; namespace: string } }>();
  const api = new FakeApi(poolCache, subnetCache);
  const subnet: SubnetObject = {
    apiVersion: 'spiderpool.spidernet.io/v2beta1',
    kind: 'SpiderSubnet',
    metadata: { name: 'sub', uid: 'sub-uid', resourceVersion: '1' },
    spec: { subnet: '10.0.0.0/24', ips: ['10.0.0.1-10.0.0.40'], excludeIPs: ['10.0.0.2-10.0.0.4'], gateway: '10.0.0.1' },
  };
  api.subnets.set('sub', subnet);
  api.sync();
  const empty = new FakeCache<never>();
  const workloads = { Deployment: deployments, ReplicaSet: empty, StatefulSet: empty, DaemonSet: empty, Job: empty, CronJob: empty } as unknown as WorkloadInformers;
  const usage = new FakeUsage();
  const reconciler = new AutoPoolReconciler({
    workloads,
    pools: poolCache as unknown as Informer<PoolObject>,
    subnets: subnetCache as unknown as Informer<SubnetObject>,
    reservedIPs: new FakeCache() as never,
    io: api,
    ledger: new SubnetLedger(api, () => reserved),
    usage,
    defaultFlexibleIPNumber: 1,
  });
  const ledger = () => {
    const r = parseControlledIPPools(api.subnets.get('sub')!.status?.controlledIPPools);
    if (!r.ok) throw new Error(r.message);
    return Object.fromEntries(Object.entries(r.value).map(([k, v]) => [k, v.ips]));
  };
  /** Reconcile, let the caches catch up and the allocator load the pools, as the operator would. */
  const settle = async (key: string, rounds = 6) => {
    for (let i = 0; i < rounds; i++) {
      await reconciler.reconcile(key, ctx);
      api.sync();
      for (const p of poolCache.list()) if (!usage.served_.has(p.metadata.name!)) usage.load(p);
    }
  };
  return { api, deployments, usage, reconciler, ledger, settle, poolCache };
}

const KEY = 'Deployment/ns/web';
const POOL = 'auto4-web-eth0-abcde';

describe('auto-pool reconciler', () => {
  it('carves the lowest free addresses (not excludeIPs, reserved or the gateway), ledger before pool', async () => {
    const t = setup(['10.0.0.5']);
    t.deployments.put(deployment('web', 3, {}) as never);
    await t.settle(KEY);
    expect(t.ledger()).toEqual({ [POOL]: ['10.0.0.6-10.0.0.9'] });
    const pool = t.api.pools.get(POOL)!;
    expect(pool.spec.ips).toEqual(['10.0.0.6-10.0.0.9']);
    expect(pool.spec.podAffinity?.matchLabels?.['ipam.spidernet.io/app-name']).toBe('web');
    const status = t.api.subnets.get('sub')!.status!;
    expect([status.totalIPCount, status.allocatedIPCount, status.freeIPCount]).toEqual([35, 4, 31]);
  });

  it('shrinks in two steps and only through free addresses', async () => {
    const t = setup();
    t.deployments.put(deployment('web', 5, {}) as never);
    await t.settle(KEY);
    expect(t.ledger()[POOL]).toEqual(['10.0.0.5-10.0.0.10']);
    t.usage.held_.set(POOL, IPSet.parse(4, ['10.0.0.5', '10.0.0.10']));
    t.deployments.put(deployment('web', 1, {}) as never);
    // Step 3a: out of the allocator and the pool; the ledger still holds them.
    await t.reconciler.reconcile(KEY, ctx);
    expect(t.usage.withdrawn.at(-1)).toEqual(['10.0.0.5', '10.0.0.10']);
    expect(t.api.pools.get(POOL)!.spec.ips).toEqual(['10.0.0.5', '10.0.0.10']);
    expect(t.ledger()[POOL]).toEqual(['10.0.0.5-10.0.0.10']);
    // Step 3b, once the cache shows the smaller pool: back to the subnet.
    await t.settle(KEY, 3);
    expect(t.ledger()[POOL]).toEqual(['10.0.0.5', '10.0.0.10']);
    // The held pods go: the pool reaches replicas + 1.
    t.usage.held_.set(POOL, IPSet.parse(4, ['10.0.0.5']));
    await t.settle(KEY);
    expect(IPSet.parse(4, t.ledger()[POOL]!).count).toBe(2n);
    expect(IPSet.parse(4, t.api.pools.get(POOL)!.spec.ips!).equals(IPSet.parse(4, t.ledger()[POOL]!))).toBe(true);
    expect(IPSet.parse(4, t.ledger()[POOL]!).hasIP('10.0.0.5')).toBe(true);
  });

  it('puts a leaving address that an ADD took meanwhile back into the pool, never into the subnet', async () => {
    const t = setup();
    t.deployments.put(deployment('web', 3, {}) as never);
    await t.settle(KEY);
    t.deployments.put(deployment('web', 0, {}) as never);
    await t.reconciler.reconcile(KEY, ctx); // 3a: pool → 1 address
    t.api.sync();
    expect(IPSet.parse(4, t.api.pools.get(POOL)!.spec.ips!).count).toBe(1n);
    // A late pool event re-applied the old spec and an ADD took the highest address.
    t.usage.held_.set(POOL, IPSet.parse(4, ['10.0.0.8']));
    await t.reconciler.reconcile(KEY, ctx);
    expect(t.api.pools.get(POOL)!.spec.ips).toEqual(['10.0.0.5-10.0.0.8']);
    expect(t.ledger()[POOL]).toEqual(['10.0.0.5-10.0.0.8']);
  });

  it('deletes the pool with its workload once empty; keeps it with ippool-reclaim "false" for the next one to adopt', async () => {
    const t = setup();
    t.deployments.put(deployment('web', 1, {}) as never);
    await t.settle(KEY);
    t.usage.held_.set(POOL, IPSet.parse(4, ['10.0.0.5']));
    t.deployments.items.clear();
    expect(await t.reconciler.reconcile(KEY, ctx)).toMatchObject({ requeueAfterMs: expect.any(Number) });
    expect(t.api.pools.has(POOL)).toBe(true);
    t.usage.held_.delete(POOL);
    await t.settle(KEY, 2);
    expect(t.api.pools.has(POOL)).toBe(false);
    expect(t.ledger()).toEqual({});

    t.deployments.put(deployment('keep', 1, { 'ipam.spidernet.io/ippool-reclaim': 'false', 'ipam.spidernet.io/ippool-ip-number': '2' }, 'uid-a-11111') as never);
    await t.settle('Deployment/ns/keep');
    const kept = [...t.api.pools.keys()];
    expect(kept).toEqual(['auto4-keep-eth0-11111']);
    t.deployments.items.clear();
    await t.settle('Deployment/ns/keep');
    expect([...t.api.pools.keys()]).toEqual(kept);
    t.deployments.put(deployment('keep', 1, { 'ipam.spidernet.io/ippool-reclaim': 'false', 'ipam.spidernet.io/ippool-ip-number': '2' }, 'uid-b-22222') as never);
    await t.settle('Deployment/ns/keep');
    expect([...t.api.pools.keys()]).toEqual(kept);
    expect(t.api.pools.get(kept[0]!)!.metadata.labels?.['ipam.spidernet.io/owner-application-uid']).toBe('uid-b-22222');
  });

  it('a subnet short of addresses leaves the pool as it is and looks again later', async () => {
    const t = setup();
    t.deployments.put(deployment('web', 2, {}) as never);
    await t.settle(KEY);
    t.deployments.put(deployment('web', 2, { 'ipam.spidernet.io/ippool-ip-number': '50' }) as never);
    const r = await t.reconciler.reconcile(KEY, ctx);
    expect(r).toMatchObject({ requeueAfterMs: expect.any(Number) });
    expect(t.ledger()[POOL]).toEqual(['10.0.0.5-10.0.0.7']);
    t.deployments.put(deployment('web', 2, { 'ipam.spidernet.io/ippool-ip-number': '30' }) as never);
    await t.settle(KEY, 2);
    expect(IPSet.parse(4, t.ledger()[POOL]!).count).toBe(30n);
  });

  it('follows edits of the subnet gateway and routes', async () => {
    const t = setup();
    t.deployments.put(deployment('web', 1, {}) as never);
    await t.settle(KEY);
    expect(t.api.pools.get(POOL)!.spec.gateway).toBe('10.0.0.1');
    const sub = t.api.subnets.get('sub')!;
    t.api.subnets.set('sub', { ...sub, spec: { ...sub.spec, gateway: '10.0.0.254', routes: [{ dst: '192.168.0.0/16', gw: '10.0.0.254' }] } });
    t.api.sync();
    await t.settle(KEY, 2);
    expect(t.api.pools.get(POOL)!.spec).toMatchObject({ gateway: '10.0.0.254', routes: [{ dst: '192.168.0.0/16', gw: '10.0.0.254' }] });
  });

  it('never gives two workloads carved at once the same addresses, and carves them in one write', async () => {
    const t = setup();
    const names = Array.from({ length: 8 }, (_, i) => `w${i}`);
    for (const n of names) t.deployments.put(deployment(n, 3, {}, `uid-${n}-0000-${n}0000`) as never);
    const before = t.api.writes;
    await Promise.all(names.map((n) => t.reconciler.reconcile(`Deployment/ns/${n}`, ctx)));
    // Group-committed: the eight carvings share one subnet status write.
    expect(t.api.writes - before).toBe(1);
    const sets = Object.values(t.ledger()).map((ips) => IPSet.parse(4, ips));
    expect(sets).toHaveLength(8);
    let union = IPSet.empty(4);
    for (const s of sets) {
      expect(union.intersect(s).isEmpty).toBe(true);
      union = union.union(s);
    }
    expect(union.count).toBe(32n);
  });
});
