// One reconcile per application (key `Kind/namespace/name`), whatever its kind: the auto pools its
// pod template asks for exist, hold exactly the planned number of addresses carved from their
// SpiderSubnet (ledger first, then the pool; shrinking only through unheld addresses, taken out of
// the allocator first), and pools it no longer wants are deleted once empty — unless they were made
// with ipam.spidernet.io/ippool-reclaim: "false", in which case they stay (ledger entry included)
// and the next application of that kind, namespace and name adopts them.
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import * as K from '../../api/v2beta1/constants.js';
import { API_VERSION, type SpiderIPPool, type SpiderReservedIP } from '../../api/v2beta1/types.js';
import { IPSet } from '../../core/ip/index.js';
import { carvableSet, carvedSet, freeSet, parseControlledIPPools, planResize, subnetFamily, takeHighest } from '../../core/subnet/index.js';
import type { PoolIPPreAllocations } from '../../api/v2beta1/types.js';
import {
  type AutoPoolPlan,
  type AutoPoolWant,
  applicationRef,
  autoPoolAnnotations,
  autoPoolLabels,
  autoPoolName,
  autoPoolPodAffinity,
  autoPoolPlan,
  wantsAutoPools,
  ipVersionLabelValue,
} from '../../core/workload/index.js';
import type { ReconcileContext, ReconcileResult } from '../../framework/controller.js';
import type { Informer } from '../../framework/informer.js';
import { type AutoPoolIO, ConflictError, type PoolObject, type SubnetObject } from './kube-io.js';
import type { PoolUsage } from './pool-usage.js';
import type { AutoPoolEvents } from './events.js';
import { type ThirdPartyReader, parseThirdPartyKey } from './third-party.js';
import type { SubnetLedger } from './subnet-ledger.js';
import { type WorkloadInformers, type WorkloadView, parseWorkloadKey, toWorkloadView } from './workloads.js';

export interface AutoPoolReconcilerOptions {
  workloads: WorkloadInformers;
  pools: Informer<PoolObject>;
  subnets: Informer<SubnetObject>;
  reservedIPs: Informer<SpiderReservedIP & KubernetesObject>;
  io: AutoPoolIO;
  ledger: SubnetLedger;
  usage: PoolUsage;
  /** The "+N" of a workload without ipam.spidernet.io/ippool-ip-number. */
  defaultFlexibleIPNumber: number;
  /** How soon to look again at a pool that waits (pods still hold addresses, subnet short). */
  retryMs?: number;
  /** A Warning event on the workload when its pool cannot be made. */
  events?: AutoPoolEvents;
  /** Third-party controllers: their state from the API, their pods from the cache. */
  thirdParty?: { read: ThirdPartyReader; pods: (namespace: string) => V1Pod[] };
}

/** How often a third-party application is looked at again (its replicas are not watched). */
const THIRD_PARTY_RESYNC_MS = 15_000;

type Step = { pool?: string; requeueAfterMs?: number };

const labelsOf = (p: SpiderIPPool) => p.metadata.labels ?? {};

/** The auto pools of one application (any uid), from the pool cache. */
export function poolsOfApplication(pools: Informer<PoolObject>, kind: string, namespace: string, name: string): PoolObject[] {
  return pools.list().filter((p) => {
    const l = labelsOf(p);
    return l[K.LABEL_IPPOOL_OWNER_APPLICATION_KIND] === kind && l[K.LABEL_IPPOOL_OWNER_APPLICATION_NAMESPACE] === namespace && l[K.LABEL_IPPOOL_OWNER_APPLICATION_NAME] === name;
  });
}

export class AutoPoolReconciler {
  private readonly retryMs: number;
  constructor(private readonly o: AutoPoolReconcilerOptions) {
    this.retryMs = o.retryMs ?? 2000;
  }

  async reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    try {
      return await this.reconcileApplication(key, ctx);
    } catch (e) {
      // A cache behind the API (pool just created or changed): look again shortly, quietly.
      if (e instanceof ConflictError) {
        ctx.log.debug('changed meanwhile; retrying', { error: e.message });
        return { requeueAfterMs: 200 };
      }
      throw e;
    }
  }

  /** The application behind a key: a built-in kind from its informer, a third-party one from the API. */
  private async viewOf(key: string): Promise<{ id: { kind: string; namespace: string; name: string }; view?: WorkloadView; thirdParty?: boolean; keep?: boolean } | undefined> {
    const id = parseWorkloadKey(key);
    if (id !== undefined) {
      const obj = this.o.workloads[id.kind].get(`${id.namespace}/${id.name}`);
      return { id, ...(obj ? { view: toWorkloadView(id.kind, obj) } : {}) };
    }
    const tp = parseThirdPartyKey(key);
    if (tp === undefined || this.o.thirdParty === undefined) return undefined;
    const state = await this.o.thirdParty.read(tp.apiVersion, tp.kind, tp.namespace, tp.name);
    const id3 = { kind: tp.kind, namespace: tp.namespace, name: tp.name };
    if (state === undefined) return { id: id3, thirdParty: true };
    // Its pods carry the annotations (we do not know where a custom kind keeps its pod template).
    const pod = this.o.thirdParty
      .pods(tp.namespace)
      .find((p) => !p.metadata?.deletionTimestamp && p.metadata?.ownerReferences?.some((o) => o.controller && o.uid === state.uid) && wantsAutoPools(p.metadata?.annotations));
    const app = { apiVersion: tp.apiVersion, kind: tp.kind, namespace: tp.namespace, name: tp.name, uid: state.uid };
    return {
      id: id3,
      thirdParty: true,
      // No pod to read the annotations from (scaled to 0): keep the pools as they are.
      ...(pod ? { view: { app, replicas: Math.max(0, state.replicas), templateAnnotations: pod.metadata?.annotations ?? {}, deleting: state.deleting, controlled: false, replicasFromScale: state.replicas >= 0 } } : {}),
      ...(pod === undefined && !state.deleting ? { keep: true } : {}),
    };
  }

  private async reconcileApplication(key: string, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const found = await this.viewOf(key);
    if (found === undefined || found.keep) return found?.thirdParty ? { requeueAfterMs: THIRD_PARTY_RESYNC_MS } : undefined;
    const { id, view } = found;
    const owned = poolsOfApplication(this.o.pools, id.kind, id.namespace, id.name);
    // Third-party replicas are read, not watched: look again now and then while the controller lives.
    const resync = found.thirdParty && view !== undefined ? THIRD_PARTY_RESYNC_MS : undefined;

    let plan: AutoPoolPlan | undefined;
    if (view !== undefined && !view.deleting && !view.controlled) {
      const r = autoPoolPlan({
        app: view.app,
        replicas: view.replicas,
        templateAnnotations: view.templateAnnotations,
        defaultFlexibleIPNumber: this.o.defaultFlexibleIPNumber,
        ...(view.replicasFromScale ? { replicasFromScale: true } : {}),
      });
      if (!r.ok) {
        // Leave existing pools alone: a typo in an edit must not take a running application's addresses.
        ctx.log.warn('auto pool annotations rejected', { error: r.message });
        this.o.events?.(view.app, r.message);
        return;
      }
      plan = r.plan;
    }
    if (plan === undefined && owned.length === 0) return resync !== undefined ? { requeueAfterMs: resync } : undefined;

    const steps: Step[] = [];
    const kept = new Set<string>();
    for (const want of plan?.pools ?? []) {
      const s = await this.ensurePool(view!, plan!, want, owned, ctx);
      if (s.pool) kept.add(s.pool);
      steps.push(s);
    }
    for (const p of owned) {
      if (kept.has(p.metadata.name ?? '')) continue;
      steps.push(await this.retire(p, ctx));
    }
    const waits = steps.flatMap((s) => (s.requeueAfterMs === undefined ? [] : [s.requeueAfterMs]));
    if (resync !== undefined) waits.push(resync);
    return waits.length > 0 ? { requeueAfterMs: Math.min(...waits) } : undefined;
  }

  /** One (interface, family) pool of the application at its planned size. */
  private async ensurePool(view: WorkloadView, plan: AutoPoolPlan, want: AutoPoolWant, owned: PoolObject[], ctx: ReconcileContext): Promise<Step> {
    const short = { value: false };
    const step = await this.ensurePoolSteps(view, plan, want, owned, ctx, short);
    // The subnet could not give what the plan needs: look again later (another pool may free some).
    return short.value ? { ...step, requeueAfterMs: Math.min(step.requeueAfterMs ?? Infinity, this.retryMs * 5) } : step;
  }

  private async ensurePoolSteps(view: WorkloadView, plan: AutoPoolPlan, want: AutoPoolWant, owned: PoolObject[], ctx: ReconcileContext, short: { value: boolean }): Promise<Step> {
    const { app } = view;
    const subnet = this.o.subnets.get(want.subnetName);
    if (subnet === undefined) {
      ctx.log.warn('SpiderSubnet named by the workload does not exist', { subnet: want.subnetName, ifName: want.ifName });
      this.o.events?.(app, `SpiderSubnet ${want.subnetName} (ipam.spidernet.io/subnet(s), interface ${want.ifName}) does not exist: create it or name an existing one`);
      return { requeueAfterMs: this.retryMs * 5 };
    }
    if (subnetFamily(subnet.spec) !== want.ipVersion) {
      const message = `SpiderSubnet ${want.subnetName} is IPv${subnetFamily(subnet.spec)}, but ipam.spidernet.io/subnet(s) names it under "ipv${want.ipVersion}" for interface ${want.ifName}`;
      ctx.log.warn(message, { ifName: want.ifName });
      this.o.events?.(app, message);
      return {};
    }
    const candidates = owned.filter((p) => {
      const l = labelsOf(p);
      return l[K.LABEL_IPPOOL_INTERFACE] === want.ifName && l[K.LABEL_IPPOOL_IP_VERSION] === ipVersionLabelValue(want.ipVersion) && l[K.LABEL_IPPOOL_OWNER_SPIDER_SUBNET] === want.subnetName;
    });
    // Ours, else a kept (reclaim=false) pool of an earlier application of this name to adopt.
    let pool = candidates.find((p) => labelsOf(p)[K.LABEL_IPPOOL_OWNER_APPLICATION_UID] === app.uid) ?? candidates.find((p) => labelsOf(p)[K.LABEL_IPPOOL_RECLAIM] === 'false');
    if (pool?.metadata.deletionTimestamp) pool = undefined;
    const name = pool?.metadata.name ?? autoPoolName(app.name, want.ipVersion, want.ifName, app.uid);
    const family = want.ipVersion;
    const id = { subnetName: want.subnetName, app, ifName: want.ifName, ipVersion: want.ipVersion };
    const labels = autoPoolLabels({ ...id, reclaim: plan.reclaim, subnetCIDR: subnet.spec.subnet });
    const log = ctx.log.child({ pool: name, subnet: want.subnetName });

    // Nothing to do (the common case: a workload status update): the pool is ours, labelled, at its
    // size, and the cached ledger records exactly its addresses. No API call, no subnet lock.
    if (pool !== undefined && !pool.metadata.deletionTimestamp && Object.entries(labels).every(([k, v]) => labelsOf(pool)[k] === v) && !inheritedDrift(pool, subnet)) {
      const cached = cachedLedger(subnet)[name];
      const poolIPs = IPSet.parse(family, pool.spec.ips ?? []);
      if (cached !== undefined && cached.application === applicationRef(app) && poolIPs.count === BigInt(plan.size) && IPSet.parse(family, cached.ips).equals(poolIPs)) return { pool: name };
    }

    // 1. The ledger: grow (or record) under the subnet's lock with CAS.
    const held = pool ? this.o.usage.held(name) : IPSet.empty(family);
    const pending: { shrink?: { current: IPSet; next: IPSet; remove: IPSet } } = {};
    const outcome = await this.o.ledger.update<{ ips: IPSet; error?: string }>(want.subnetName, (sub, ledger, reserved) => {
      const entry = ledger[name];
      const current = entry
        ? IPSet.parse(family, entry.ips)
        : pool
          ? IPSet.parse(family, pool.spec.ips ?? []).intersect(carvableSet(sub.spec, reserved).subtract(carvedSet(family, ledger, name)))
          : IPSet.empty(family);
      const r = planResize({ current, size: plan.size, free: freeSet(sub.spec, reserved, ledger), held: held ?? current, subnetName: want.subnetName, poolName: name });
      const record = (ips: IPSet) => ({ ledger: { ...ledger, [name]: { ips: ips.toStrings(), application: applicationRef(app) } } });
      switch (r.kind) {
        case 'insufficient':
          return { result: { error: r.message, ips: current } };
        case 'grow':
          return { ...record(r.next), result: { ips: r.next } };
        case 'shrink':
          pending.shrink = { current, next: r.next, remove: r.remove };
          return { ...(entry ? {} : record(current)), result: { ips: current } };
        default:
          return { ...(entry && entry.application === applicationRef(app) ? {} : record(current)), result: { ips: current } };
      }
    });
    if (outcome === undefined) return { requeueAfterMs: this.retryMs * 5 };
    if (outcome.error !== undefined) {
      short.value = true;
      log.warn('auto pool cannot grow', { error: outcome.error });
      this.o.events?.(app, outcome.error);
    }
    let ips = outcome.ips;

    // 2. The pool object follows the ledger.
    const ledgerIPs = outcome.ips;
    if (pool === undefined) {
      if (ledgerIPs.isEmpty && plan.size > 0) return { requeueAfterMs: this.retryMs * 5 };
      const created = await this.o.io.createPool({
        apiVersion: API_VERSION,
        kind: 'SpiderIPPool',
        metadata: {
          name,
          labels,
          annotations: autoPoolAnnotations(plan.ipNumber),
          ownerReferences: [{ apiVersion: API_VERSION, kind: 'SpiderSubnet', name: want.subnetName, uid: subnet.metadata?.uid ?? '' }],
        },
        spec: {
          ipVersion: family,
          subnet: subnet.spec.subnet,
          ips: ledgerIPs.toStrings(),
          ...(subnet.spec.gateway ? { gateway: subnet.spec.gateway } : {}),
          ...(subnet.spec.routes?.length ? { routes: subnet.spec.routes } : {}),
          ...(subnet.spec.vlan !== undefined ? { vlan: subnet.spec.vlan } : {}),
          podAffinity: autoPoolPodAffinity(app),
        },
      });
      log.info('auto pool created', { ips: ledgerIPs.toStrings(), size: plan.size, application: applicationRef(app) });
      return { pool: created.metadata?.name ?? name };
    }
    const poolIPs = IPSet.parse(family, pool.spec.ips ?? []);
    const size = BigInt(plan.size);
    // The pool has fewer addresses than the ledger gives it while a shrink is under way (step 3 took
    // them out of the pool first); otherwise the pool is behind the ledger and follows it.
    const leaving = ledgerIPs.count > size ? ledgerIPs.subtract(poolIPs) : IPSet.empty(family);
    const target = leaving.isEmpty ? ledgerIPs : poolIPs;
    const relabel = Object.entries(labels).some(([k, v]) => labelsOf(pool)[k] !== v);
    const drift = inheritedDrift(pool, subnet);
    if (relabel || drift || !poolIPs.equals(target)) {
      const adopting = labelsOf(pool)[K.LABEL_IPPOOL_OWNER_APPLICATION_UID] !== app.uid;
      // No resourceVersion precondition: the ledger decides the addresses, and status writes by the
      // pool-status controller would make every precondition stale.
      await this.o.io.patchPool(name, { metadata: { labels, annotations: autoPoolAnnotations(plan.ipNumber) }, spec: { ips: target.toStrings(), ...inherited(subnet) } });
      log.info(adopting ? 'kept auto pool adopted by the new application' : 'auto pool follows the subnet ledger', { ips: target.toStrings(), size: plan.size });
      return { pool: name, requeueAfterMs: 0 };
    }

    // 3b. Finish a shrink: give the addresses back to the subnet only once the allocator serves the
    //     smaller pool and none of them is held. A late pool event that re-applied the old spec (and
    //     let an ADD take one of them) puts them back into the pool instead; never into another pool.
    if (!leaving.isEmpty) {
      const held = this.o.usage.held(name);
      const served = this.o.usage.served(name);
      if (held === undefined || served === undefined) return { pool: name, requeueAfterMs: this.retryMs };
      if (!leaving.intersect(held).isEmpty) {
        await this.o.io.patchPool(name, { spec: { ips: ledgerIPs.toStrings() } });
        log.warn('addresses being given back were taken meanwhile; kept in the pool', { taken: leaving.intersect(held).toStrings() });
        return { pool: name, requeueAfterMs: this.retryMs };
      }
      if (!leaving.intersect(served).isEmpty) {
        const problem = this.o.usage.withdraw(pool);
        if (problem !== undefined) return { pool: name, requeueAfterMs: this.retryMs };
      }
      await this.o.ledger.update(want.subnetName, (_s, ledger) => {
        const entry = ledger[name];
        if (entry === undefined) return { result: undefined };
        const rest = IPSet.parse(family, entry.ips).subtract(leaving);
        return { ledger: { ...ledger, [name]: { ips: rest.toStrings(), application: applicationRef(app) } }, result: undefined };
      });
      log.info('auto pool shrunk', { released: leaving.toStrings(), ips: poolIPs.toStrings(), size: plan.size });
      return { pool: name, ...(poolIPs.count > size ? { requeueAfterMs: this.retryMs } : {}) };
    }

    // 3a. Start a shrink: take free addresses out of the allocator (synchronously, right after
    //     reading what is held), then out of the pool's spec; 3b gives them back next time round.
    if (pending.shrink !== undefined) {
      const nowHeld = this.o.usage.held(name);
      if (nowHeld === undefined) return { pool: name, requeueAfterMs: this.retryMs };
      const remove = takeHighest(poolIPs.subtract(nowHeld), Number(poolIPs.count - size));
      if (remove.isEmpty) return { pool: name, requeueAfterMs: this.retryMs };
      const next = poolIPs.subtract(remove);
      const problem = this.o.usage.withdraw({ ...pool, spec: { ...pool.spec, ips: next.toStrings() } });
      if (problem !== undefined) {
        log.info('shrink postponed', { problem });
        return { pool: name, requeueAfterMs: this.retryMs };
      }
      await this.o.io.patchPool(name, { spec: { ips: next.toStrings() } });
      return { pool: name, requeueAfterMs: 0 };
    }
    return { pool: name };
  }

  /** A pool the application no longer wants: kept when reclaim is "false", else deleted once empty. */
  private async retire(pool: PoolObject, ctx: ReconcileContext): Promise<Step> {
    const name = pool.metadata.name ?? '';
    const l = labelsOf(pool);
    const log = ctx.log.child({ pool: name });
    if (l[K.LABEL_IPPOOL_RECLAIM] === 'false') return {};
    const held = this.o.usage.allocated(name);
    if (held === undefined || held > 0) {
      log.debug('auto pool waits for its addresses to be released before deletion', { held });
      return { requeueAfterMs: this.retryMs };
    }
    if (!pool.metadata.deletionTimestamp) {
      await this.o.io.deletePool(name, pool.metadata.uid ?? '');
      log.info('auto pool deleted with its application');
    }
    // The pool is gone (or going, and empty): its addresses go back to the subnet.
    const subnetName = l[K.LABEL_IPPOOL_OWNER_SPIDER_SUBNET];
    if (subnetName) {
      await this.o.ledger.update(subnetName, (_s, ledger) => {
        if (!(name in ledger)) return { result: undefined };
        const { [name]: _gone, ...rest } = ledger;
        return { ledger: rest, result: undefined };
      });
    }
    return {};
  }
}

/** What an auto pool takes from its subnet and follows when the subnet's spec is edited (null: removed). */
function inherited(subnet: SubnetObject): { gateway: string | null; routes: SpiderIPPool['spec']['routes'] | null; vlan: number | null } {
  return { gateway: subnet.spec.gateway ?? null, routes: subnet.spec.routes?.length ? subnet.spec.routes : null, vlan: subnet.spec.vlan ?? null };
}

function inheritedDrift(pool: SpiderIPPool, subnet: SubnetObject): boolean {
  const want = inherited(subnet);
  const have = { gateway: pool.spec.gateway ?? null, routes: pool.spec.routes?.length ? pool.spec.routes : null, vlan: pool.spec.vlan ?? null };
  return JSON.stringify(want) !== JSON.stringify(have);
}

/** The ledger of a cached subnet, decoded once per object version (informer objects are replaced, never mutated). */
export function cachedLedger(subnet: SubnetObject): PoolIPPreAllocations {
  let v = ledgers.get(subnet);
  if (v === undefined) {
    const r = parseControlledIPPools(subnet.status?.controlledIPPools);
    v = r.ok ? r.value : {};
    ledgers.set(subnet, v);
  }
  return v;
}
const ledgers = new WeakMap<SubnetObject, PoolIPPreAllocations>();

/** Keys of the application an auto pool belongs to (pool events → reconcile its application). */
export function applicationKeysOfPool(p: SpiderIPPool): string[] {
  const l = labelsOf(p);
  const kind = l[K.LABEL_IPPOOL_OWNER_APPLICATION_KIND];
  const ns = l[K.LABEL_IPPOOL_OWNER_APPLICATION_NAMESPACE];
  const name = l[K.LABEL_IPPOOL_OWNER_APPLICATION_NAME];
  return kind && ns && name ? [`${kind}/${ns}/${name}`] : [];
}
