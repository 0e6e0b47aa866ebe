// SpiderEndpoint as a derived view of the IPAMBlocks (ADR 0005): one per pod that holds addresses,
// named like the pod, in its namespace. Spiderpool writes it as a second step after the pool record —
// the source of most of its duplicate-IP and drift bugs; here it is computed from the blocks' entries
// for the pod and never read on the allocation path, so a missing or stale endpoint is only a stale
// view until the next reconcile, never a wrong allocation.
//
// What it shows, matched to Spiderpool (spidernet-io/spiderpool):
//  - status.current {uid, node, ips[]}: one ips item per interface with the v4 and v6 address in CIDR
//    form, pool, gateway, vlan and routes (pkg/utils/convert ConvertResultsToIPDetails). Routes are the
//    pool's spec.routes plus the pod's ipam.spidernet.io/routes entries whose gw lies in that
//    address's subnet (pkg/ipam groupCustomRoutes); the default route is not listed (the gateway is).
//  - ownerControllerType/Name: the pod's TOP controller (pkg/podmanager GetPodTopController): the
//    Deployment above a ReplicaSet, the CronJob above a Job, the direct controller for anything else
//    (third-party kinds included), and `Pod`/<pod name> for a pod without a controller.
//  - an ownerReference to the Pod (no controller flag: controllerutil.SetOwnerReference), so the
//    garbage collector removes the endpoint with the pod — except for StatefulSet pods, whose
//    endpoint outlives the pod (pkg/workloadendpointmanager PatchIPAllocationResults) as their
//    addresses do.
// Not copied: Spiderpool's finalizer on the endpoint. It exists there because the endpoint IS a
// record the agent must release first; here the blocks are, and a finalizer would only make namespace
// deletion wait for this operator (an endpoint Spiderpool wrote has the finalizer removed when it is
// deleted here). A pod deleted while its addresses are still held keeps its endpoint: the owner
// reference is dropped (or, if the collector was first, the endpoint is created again without one).
//
// Reconcile key: the pod's namespace/name. Triggers: IPAMBlock changes (every pod key in the old and
// the new block), Pod changes, SpiderEndpoint changes (repairs hand edits and deletions) and pool spec
// changes (gateway/routes/vlan shown in the view; status-only pool writes are ignored).
//
// Leader-only (the Manager's default), yet a pure derivation: run twice at once it writes the same
// view; every update names the resourceVersion it was computed from, so a racing write just retries.
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  type V1OwnerReference,
  type V1Pod,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { OwnerReference } from '../api/v2beta1/meta.js';
import {
  API_VERSION,
  GROUP,
  PLURALS,
  VERSION,
  type IPAllocationDetail,
  type Route,
  type SpiderEndpointStatus,
  type SpiderIPPool,
} from '../api/v2beta1/types.js';
import { ANNO_POD_ROUTES, SPIDER_FINALIZER, KIND_CRONJOB, KIND_DEPLOYMENT, KIND_JOB, KIND_POD, KIND_REPLICASET, KIND_STATEFULSET } from '../api/v2beta1/constants.js';
import { parseRoutesAnnotation } from '../core/annotations/index.js';
import { cidrRange, parseCIDR, parseIP } from '../core/ip/index.js';
import { Controller, type ControllerOptions, type Reconcile, type Source, informerSource } from '../framework/controller.js';
import { blockPodSource } from './block-changes.js';
import type { Informer } from '../framework/informer.js';
import { splitKey } from '../framework/keys.js';
import type { Logger } from '../framework/logger.js';
import {
  type BlockHeld,
  type BlockObject,
  type EndpointObject,
  type PoolObject,
  blocksOfPod,
  blocksOfPool,
  heldInBlock,
  podKeysOfBlock,
} from './informers.js';

export const SPIDERENDPOINT_CONTROLLER = 'spiderendpoint';

export interface TopController {
  kind: string;
  name: string;
}

/** What the endpoint of a pod should be; undefined = no endpoint (the pod holds nothing). */
export interface DesiredEndpoint {
  status: SpiderEndpointStatus;
  /** [] = none (StatefulSet pod, or the pod object is gone or is another incarnation). */
  ownerReferences: OwnerReference[];
}

export interface EndpointInputs {
  /** `namespace/name` of the pod. */
  podKey: string;
  /** Every recorded allocation whose entry names this pod (other pods' entries are ignored). */
  held: readonly BlockHeld[];
  pools: (name: string) => SpiderIPPool | undefined;
  /** The live pod of that name, if any. */
  pod: V1Pod | undefined;
  /** The pod's top controller (resolved by the caller; see resolveTopController). */
  top: TopController;
}

const ipOrder = (a: BlockHeld, b: BlockHeld) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
const nicOrder = (a: string, b: string) => (a === b ? 0 : a === 'eth0' ? -1 : b === 'eth0' ? 1 : a < b ? -1 : 1);

/**
 * Which incarnation of the pod the endpoint shows. Entries of several UIDs under one pod name happen
 * (a recreated pod, a StatefulSet replica whose old addresses await reuse): the live pod's UID wins
 * when it holds something; otherwise the most recently recorded entry's UID.
 */
export function chooseUID(held: readonly BlockHeld[], pod: V1Pod | undefined): string | undefined {
  const live = pod?.metadata?.uid;
  if (live && held.some((h) => h.entry.uid === live)) return live;
  let best: BlockHeld | undefined;
  for (const h of held) {
    if (best === undefined) best = h;
    else {
      const a = h.entry.at ?? '';
      const b = best.entry.at ?? '';
      if (a > b || (a === b && h.entry.uid > best.entry.uid)) best = h;
    }
  }
  return best?.entry.uid;
}

/** Pure: the endpoint a pod should have, from the blocks' entries for it. */
export function deriveEndpoint(inp: EndpointInputs): DesiredEndpoint | undefined {
  const mine = inp.held.filter((h) => h.entry.pod === inp.podKey);
  const uid = chooseUID(mine, inp.pod);
  if (uid === undefined) return undefined;
  const current = mine.filter((h) => h.entry.uid === uid).sort(ipOrder);
  const { name } = splitKey(inp.podKey);

  const annotationRoutes = podRoutes(inp.pod?.metadata?.uid === uid ? inp.pod : undefined);
  const byNic = new Map<string, IPAllocationDetail>();
  for (const h of current) {
    const pool = inp.pools(h.pool);
    const d = byNic.get(h.entry.nic) ?? { interface: h.entry.nic, vlan: pool?.spec.vlan ?? 0 };
    const v4 = h.family === 4;
    if ((v4 ? d.ipv4 : d.ipv6) !== undefined) continue; // one address per family and interface: the lowest
    const prefix = pool?.spec.subnet?.split('/')[1] ?? (v4 ? '32' : '128');
    const gateway = pool?.spec.gateway;
    if (v4) {
      d.ipv4 = `${h.ip}/${prefix}`;
      d.ipv4Pool = h.pool;
      if (gateway) d.ipv4Gateway = gateway;
    } else {
      d.ipv6 = `${h.ip}/${prefix}`;
      d.ipv6Pool = h.pool;
      if (gateway) d.ipv6Gateway = gateway;
    }
    if (pool?.spec.vlan !== undefined) d.vlan = pool.spec.vlan;
    const routes = [...(pool?.spec.routes ?? []), ...annotationRoutes.filter((r) => inSubnet(pool?.spec.subnet, r.gw))];
    if (routes.length > 0) d.routes = [...(d.routes ?? []), ...routes.map((r) => ({ dst: r.dst, gw: r.gw }))];
    byNic.set(h.entry.nic, d);
  }
  const ips = [...byNic.keys()].sort(nicOrder).map((k) => byNic.get(k)!);
  const node = current.find((h) => h.entry.node)?.entry.node ?? (inp.pod?.metadata?.uid === uid ? inp.pod.spec?.nodeName : undefined) ?? '';

  const ownerReferences: OwnerReference[] =
    inp.pod?.metadata?.uid === uid && inp.top.kind !== KIND_STATEFULSET ? [{ apiVersion: 'v1', kind: KIND_POD, name, uid }] : [];
  return {
    status: { current: { uid, node, ips }, ownerControllerType: inp.top.kind, ownerControllerName: inp.top.name },
    ownerReferences,
  };
}

function podRoutes(pod: V1Pod | undefined): Route[] {
  const raw = pod?.metadata?.annotations?.[ANNO_POD_ROUTES];
  if (raw === undefined) return [];
  const parsed = parseRoutesAnnotation(raw);
  return parsed.ok ? parsed.value : [];
}

function inSubnet(subnet: string | undefined, ip: string): boolean {
  if (!subnet) return false;
  try {
    const c = parseCIDR(subnet);
    const r = cidrRange(c);
    const v = parseIP(ip, { family: c.family }).value;
    return v >= r.start && v <= r.end;
  } catch {
    return false;
  }
}

// ---- top controller -------------------------------------------------------------------------------

export interface OwnerRefLike {
  apiVersion?: string;
  kind: string;
  name: string;
  uid?: string;
}

/** Looks up the controller of a ReplicaSet or Job (undefined: none, or the object is gone). */
export type ParentLookup = (namespace: string, kind: 'ReplicaSet' | 'Job', name: string, uid?: string) => Promise<OwnerRefLike | undefined>;

/** The pod's direct controller reference: the live pod's, else the one recorded in the block entry. */
export function directController(pod: V1Pod | undefined, recorded: string | undefined): OwnerRefLike | undefined {
  const refs = pod?.metadata?.ownerReferences;
  if (pod !== undefined) {
    const c = refs?.find((o) => o.controller);
    return c && { apiVersion: c.apiVersion, kind: c.kind, name: c.name, uid: c.uid };
  }
  if (!recorded) return undefined;
  const slash = recorded.indexOf('/');
  if (slash <= 0) return undefined;
  return { kind: recorded.slice(0, slash), name: recorded.slice(slash + 1) };
}

/** Spiderpool's GetPodTopController, with the two parent lookups injected. */
export async function resolveTopController(podName: string, namespace: string, direct: OwnerRefLike | undefined, lookup: ParentLookup): Promise<TopController> {
  if (direct === undefined) return { kind: KIND_POD, name: podName };
  const builtin = direct.apiVersion === undefined || direct.apiVersion === 'apps/v1' || direct.apiVersion === 'batch/v1';
  if (builtin && direct.kind === KIND_REPLICASET) {
    const parent = await lookup(namespace, 'ReplicaSet', direct.name, direct.uid);
    if (parent && parent.kind === KIND_DEPLOYMENT && (parent.apiVersion ?? 'apps/v1') === 'apps/v1') return { kind: KIND_DEPLOYMENT, name: parent.name };
  } else if (builtin && direct.kind === KIND_JOB) {
    const parent = await lookup(namespace, 'Job', direct.name, direct.uid);
    if (parent && parent.kind === KIND_CRONJOB && (parent.apiVersion ?? 'batch/v1') === 'batch/v1') return { kind: KIND_CRONJOB, name: parent.name };
  }
  return { kind: direct.kind, name: direct.name };
}

/**
 * ParentLookup over the API with a memo: a ReplicaSet's or Job's controller does not change, so each
 * is read once (keyed by namespace/kind/name/uid, so a same-name successor is read again; bounded).
 * A parent that is gone (404) is not memoised and resolves to no parent (the pod then reports its
 * direct controller, as the recorded owner does).
 */
export function apiParentLookup(kc: KubeConfig, maxEntries = 10_000): ParentLookup {
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const memo = new Map<string, OwnerRefLike | null>();
  return async (namespace, kind, name, uid) => {
    const key = `${namespace}/${kind}/${name}/${uid ?? ''}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit ?? undefined;
    let refs: V1OwnerReference[] | undefined;
    try {
      const obj = kind === 'ReplicaSet' ? await apps.readNamespacedReplicaSet({ namespace, name }) : await batch.readNamespacedJob({ namespace, name });
      refs = obj.metadata?.ownerReferences;
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return undefined;
      throw new Error(`reading ${kind} ${namespace}/${name} (owner of a pod): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    const c = refs?.find((o) => o.controller);
    const value = c ? { apiVersion: c.apiVersion, kind: c.kind, name: c.name, uid: c.uid } : null;
    if (memo.size >= maxEntries) memo.delete(memo.keys().next().value!);
    memo.set(key, value);
    return value ?? undefined;
  };
}

// ---- comparison and writes ----------------------------------------------------------------------

/** JSON with object keys sorted, so two equal views compare equal whatever order they were built in. */
export function canonicalJSON(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val !== null && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : val,
  );
}

const ownerView = (refs: readonly OwnerReference[] | undefined) =>
  canonicalJSON((refs ?? []).map((r) => ({ apiVersion: r.apiVersion, kind: r.kind, name: r.name, uid: r.uid })));

/** True when the existing endpoint already shows `want` (status and owner references). */
export function endpointUpToDate(existing: EndpointObject, want: DesiredEndpoint): boolean {
  return canonicalJSON(existing.status ?? null) === canonicalJSON(want.status) && ownerView(existing.metadata?.ownerReferences) === ownerView(want.ownerReferences);
}

/** Endpoint writes; the integration tests count calls through it. */
export interface EndpointWriter {
  create(namespace: string, name: string, want: DesiredEndpoint): Promise<void>;
  /** Guarded by resourceVersion (merge patch carrying metadata.resourceVersion). */
  update(existing: EndpointObject, want: DesiredEndpoint): Promise<void>;
  /** Guarded by uid + resourceVersion. */
  delete(existing: EndpointObject): Promise<void>;
}

export class KubeEndpointWriter implements EndpointWriter {
  private readonly api: CustomObjectsApi;
  private readonly base = { group: GROUP, version: VERSION, plural: PLURALS.SpiderEndpoint };
  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  async create(namespace: string, name: string, want: DesiredEndpoint): Promise<void> {
    const body = {
      apiVersion: API_VERSION,
      kind: 'SpiderEndpoint',
      metadata: { name, namespace, ...(want.ownerReferences.length > 0 ? { ownerReferences: want.ownerReferences } : {}) },
      status: want.status,
    };
    try {
      await this.api.createNamespacedCustomObject({ ...this.base, namespace, body });
    } catch (e) {
      // 409: created meanwhile (our cache is behind); the informer's event brings us back.
      if (e instanceof ApiException && e.code === 409) return;
      throw withContext(e, namespace, name, 'create');
    }
  }

  async update(existing: EndpointObject, want: DesiredEndpoint): Promise<void> {
    const namespace = existing.metadata?.namespace ?? '';
    const name = existing.metadata?.name ?? '';
    // A merge patch replaces lists whole (ips, routes, ownerReferences) and merges objects; every key
    // of status and status.current is always present, so nothing stale survives.
    const body = {
      metadata: { resourceVersion: existing.metadata?.resourceVersion, ownerReferences: want.ownerReferences.length > 0 ? want.ownerReferences : null },
      status: want.status,
    };
    try {
      await this.api.patchNamespacedCustomObject({ ...this.base, namespace, name, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return;
      throw withContext(e, namespace, name, 'update');
    }
  }

  async delete(existing: EndpointObject): Promise<void> {
    const namespace = existing.metadata?.namespace ?? '';
    const name = existing.metadata?.name ?? '';
    let resourceVersion = existing.metadata?.resourceVersion;
    try {
      // An endpoint Spiderpool wrote (a cluster moving over) carries its finalizer, which nothing
      // here would ever remove: drop it first, or the delete would leave the endpoint terminating.
      const finalizers = existing.metadata?.finalizers ?? [];
      if (finalizers.includes(SPIDER_FINALIZER)) {
        const rest = finalizers.filter((f) => f !== SPIDER_FINALIZER);
        const patched = (await this.api.patchNamespacedCustomObject(
          { ...this.base, namespace, name, body: { metadata: { resourceVersion, finalizers: rest.length > 0 ? rest : null } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        )) as EndpointObject;
        resourceVersion = patched.metadata?.resourceVersion;
      }
      await this.api.deleteNamespacedCustomObject({
        ...this.base,
        namespace,
        name,
        body: { preconditions: { uid: existing.metadata?.uid, resourceVersion } },
      });
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return;
      throw withContext(e, namespace, name, 'delete');
    }
  }
}

function withContext(e: unknown, namespace: string, name: string, op: string): Error {
  const detail = e instanceof ApiException ? `HTTP ${e.code}: ${String(e.body).slice(0, 300)}` : e instanceof Error ? e.message : String(e);
  return new Error(`SpiderEndpoint ${namespace}/${name}: ${op} failed: ${detail}`, { cause: e });
}

/** A create refused because the namespace is being deleted (or is gone): nothing to show it in. */
function namespaceClosing(e: unknown): boolean {
  const cause = (e as { cause?: unknown }).cause;
  if (!(cause instanceof ApiException)) return false;
  return (cause.code === 403 && String(cause.body).includes('being terminated')) || (cause.code === 404 && String(cause.body).includes('namespaces'));
}

// ---- the controller -------------------------------------------------------------------------------

export interface SpiderEndpointControllerOptions {
  pods: Informer<V1Pod>;
  blocks: Informer<BlockObject>;
  pools: Informer<PoolObject>;
  endpoints: Informer<EndpointObject>;
  writer: EndpointWriter;
  parents: ParentLookup;
  log: Logger;
  /** one call per reconcile (metrics, tests) */
  onResult?: ControllerOptions['onResult'];
  /** default 4 */
  workers?: number;
}

export function newSpiderEndpointController(opts: SpiderEndpointControllerOptions): Controller {
  const reconcile: Reconcile = async (key, { log }) => {
    const { namespace = '', name } = splitKey(key);
    const held = blocksOfPod(opts.blocks, key).flatMap((b) => heldInBlock(b).held);
    const pod = opts.pods.get(key);
    const existing = opts.endpoints.get(key);
    const uid = chooseUID(held.filter((h) => h.entry.pod === key), pod);
    if (uid === undefined) {
      if (existing !== undefined) {
        await opts.writer.delete(existing);
        log.info('endpoint deleted: the pod holds no addresses');
      }
      return;
    }
    const livePod = pod?.metadata?.uid === uid ? pod : undefined;
    const recordedOwner = held.find((h) => h.entry.uid === uid && h.entry.ok)?.entry.ok;
    const top = await resolveTopController(name, namespace, directController(livePod, recordedOwner), opts.parents);
    const want = deriveEndpoint({ podKey: key, held, pools: (p) => opts.pools.get(p), pod, top });
    if (want === undefined) return;
    if (existing === undefined) {
      try {
        await opts.writer.create(namespace, name, want);
      } catch (e) {
        if (namespaceClosing(e)) {
          log.info('endpoint not created: the namespace is being deleted');
          return;
        }
        throw e;
      }
      log.info('endpoint created', { uid, ips: want.status.current.ips.length });
    } else if (!endpointUpToDate(existing, want)) {
      await opts.writer.update(existing, want);
      log.info('endpoint updated', { uid });
    }
  };

  // Pool spec changes, creations and deletions only (status writes by the pool-status controller would otherwise re-queue
  // every pod of the pool on every allocation).
  const poolSource: Source = {
    subscribe(enqueue) {
      const podsOf = (p: PoolObject) => {
        for (const b of blocksOfPool(opts.blocks, p.metadata.name ?? '')) for (const k of podKeysOfBlock(b)) enqueue(k);
      };
      return opts.pools.addEventHandler({
        // a pool created (again) or deleted while blocks name it changes prefix and gateway shown
        add: podsOf,
        delete: podsOf,
        update: (a, b) => {
          if (a !== b && canonicalJSON(a.spec) !== canonicalJSON(b.spec)) podsOf(b);
        },
      });
    },
    keys: () => [],
    hasSynced: () => opts.pools.hasSynced(),
  };

  return new Controller({
    name: SPIDERENDPOINT_CONTROLLER,
    workers: opts.workers ?? 4,
    reconcile,
    log: opts.log,
    ...(opts.onResult ? { onResult: opts.onResult } : {}),
    sources: [
      // only the pods whose entries changed (block-changes.ts), not all ~256 of the block
      blockPodSource(opts.blocks),
      informerSource(opts.pods),
      informerSource(opts.endpoints),
      poolSource,
    ],
  });
}
