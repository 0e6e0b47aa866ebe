// Informers the derived-view controllers read (ippool-status.ts, spiderendpoint.ts), with the indexes
// they need on IPAMBlocks, and the small readers over blocks both controllers share. The blocks are
// the only record of who holds which address (ADR 0005); everything here only reads them.
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Pod,
} from '@kubernetes/client-node';
import { type BlockEntry, type IPAMBlock, IPAMBLOCK_PLURAL, IPAM_GROUP, IPAM_VERSION, decodeEntry } from '../api/internal/ipamblock.js';
import { GROUP, PLURALS, VERSION, type IPVersion, type SpiderEndpoint, type SpiderIPPool, type SpiderReservedIP, type SpiderSubnet } from '../api/v2beta1/types.js';
import { formatIP, parseIP } from '../core/ip/index.js';
import { type IndexFunc, Informer, type ListOptions } from '../framework/informer.js';
import type { Logger } from '../framework/logger.js';

export type PoolObject = SpiderIPPool & KubernetesObject;
export type ReservedIPObject = SpiderReservedIP & KubernetesObject;
export type BlockObject = IPAMBlock & KubernetesObject;
export type EndpointObject = SpiderEndpoint & KubernetesObject;
export type SubnetObject = SpiderSubnet & KubernetesObject;

/** Index of blocks by spec.pool (the full pool name; the label may be cut to 63 characters). */
export const BLOCK_POOL_INDEX = 'pool';
/** Index of blocks by the `namespace/name` of every pod holding an address in them. */
export const BLOCK_POD_INDEX = 'pod';

export const blockIndexers: Record<string, IndexFunc<BlockObject>> = {
  [BLOCK_POOL_INDEX]: (b) => (b.spec?.pool ? [b.spec.pool] : []),
  [BLOCK_POD_INDEX]: (b) => podKeysOfBlock(b),
};

/** Every pod key (`namespace/name`) with an entry in the block (undecodable entries skipped). */
export function podKeysOfBlock(b: IPAMBlock): string[] {
  // Informer objects are replaced, never mutated: the index, the endpoint controller's source and
  // its pool source all ask for the same version, so decode it once.
  const hit = podKeysMemo.get(b);
  if (hit !== undefined) return hit;
  const keys = new Set<string>();
  for (const text of Object.values(b.spec?.allocations ?? {})) {
    const e = decodeEntry(text);
    if (!(e instanceof Error)) keys.add(e.pod);
  }
  const out = [...keys];
  podKeysMemo.set(b, out);
  return out;
}

const podKeysMemo = new WeakMap<IPAMBlock, string[]>();

/** One recorded allocation with its address spelled out. */
export interface BlockHeld {
  pool: string;
  family: IPVersion;
  ip: string;
  /** The address as a number, for ordering and set membership. */
  value: bigint;
  entry: BlockEntry;
}

export const blockFamily = (b: IPAMBlock): IPVersion => (b.spec.cidr.includes(':') ? 6 : 4);

/**
 * The entries of one block with their addresses. A block whose cidr does not parse, or an entry that
 * does not decode (neither written by our allocator), is skipped and described in `errors`.
 */
export function heldInBlock(b: IPAMBlock): { held: BlockHeld[]; errors: string[] } {
  // Informer objects are replaced, never mutated, on change: decode each version once. (A pool
  // reconcile reads every block of the pool, up to 256 × 256 entries for a /16.)
  const hit = decoded.get(b);
  if (hit !== undefined) return hit;
  const r = decodeBlock(b);
  decoded.set(b, r);
  return r;
}

const decoded = new WeakMap<IPAMBlock, { held: BlockHeld[]; errors: string[] }>();

function decodeBlock(b: IPAMBlock): { held: BlockHeld[]; errors: string[] } {
  const family = blockFamily(b);
  let start: bigint;
  try {
    start = parseIP(b.spec.cidr.slice(0, b.spec.cidr.indexOf('/')), { family }).value;
  } catch (e) {
    return { held: [], errors: [`IPAMBlock ${b.metadata?.name}: spec.cidr ${JSON.stringify(b.spec.cidr)} does not parse: ${(e as Error).message}`] };
  }
  const held: BlockHeld[] = [];
  const errors: string[] = [];
  for (const [key, text] of Object.entries(b.spec.allocations ?? {})) {
    const offset = Number(key);
    if (!/^[0-9]{1,3}$/.test(key) || offset > 255) {
      errors.push(`IPAMBlock ${b.metadata?.name}: key ${JSON.stringify(key)} is not an offset 0..255`);
      continue;
    }
    const entry = decodeEntry(text);
    if (entry instanceof Error) {
      errors.push(`IPAMBlock ${b.metadata?.name} offset ${key}: ${entry.message}`);
      continue;
    }
    const value = start + BigInt(offset);
    held.push({ pool: b.spec.pool, family, ip: formatIP(family, value), value, entry });
  }
  return { held, errors };
}

/** Objects of one index value; an informer built without that index is scanned instead. */
export function byIndexOrScan<T extends KubernetesObject>(inf: Informer<T>, index: string, value: string, fn: IndexFunc<T>): T[] {
  try {
    return inf.byIndex(index, value);
  } catch {
    return inf.list().filter((o) => fn(o).includes(value));
  }
}

export const blocksOfPool = (inf: Informer<BlockObject>, pool: string): BlockObject[] =>
  byIndexOrScan(inf, BLOCK_POOL_INDEX, pool, blockIndexers[BLOCK_POOL_INDEX]!);

export const blocksOfPod = (inf: Informer<BlockObject>, podKey: string): BlockObject[] =>
  byIndexOrScan(inf, BLOCK_POD_INDEX, podKey, blockIndexers[BLOCK_POD_INDEX]!);

/** Family of a pool: spec.ipVersion, else the family of spec.subnet. */
export const poolFamily = (p: SpiderIPPool): IPVersion => p.spec.ipVersion ?? (p.spec.subnet?.includes(':') ? 6 : 4);

/** Families a SpiderReservedIP speaks for: spec.ipVersion, else those of its entries. */
export function reservedFamilies(r: SpiderReservedIP | undefined): IPVersion[] {
  if (!r?.spec) return [];
  if (r.spec.ipVersion) return [r.spec.ipVersion];
  const fams = new Set<IPVersion>();
  for (const ip of r.spec.ips ?? []) fams.add(ip.includes(':') ? 6 : 4);
  return [...fams];
}

// ---- informer factories (what main.ts passes to the controllers and the manager's caches) ----
// The operator watches everything; `scope` narrows a watch (tests on a shared cluster).

export interface InformerScope {
  labelSelector?: string;
  /** namespaced kinds only */
  namespace?: string;
}

const selector = (s: InformerScope | undefined) => (s?.labelSelector ? { labelSelector: s.labelSelector } : {});

function listCustom<T extends KubernetesObject>(kc: KubeConfig, group: string, version: string, plural: string) {
  const api = kc.makeApiClient(CustomObjectsApi);
  return (o: ListOptions) => api.listClusterCustomObject({ group, version, plural, ...o }) as Promise<KubernetesListObject<T>>;
}

export function newBlockInformer(kc: KubeConfig, log: Logger, scope?: InformerScope): Informer<BlockObject> {
  return new Informer<BlockObject>({
    ...selector(scope),
    name: IPAMBLOCK_PLURAL,
    kubeConfig: kc,
    path: `/apis/${IPAM_GROUP}/${IPAM_VERSION}/${IPAMBLOCK_PLURAL}`,
    list: listCustom<BlockObject>(kc, IPAM_GROUP, IPAM_VERSION, IPAMBLOCK_PLURAL),
    indexers: blockIndexers,
    log,
  });
}

export function newPoolInformer(kc: KubeConfig, log: Logger, scope?: InformerScope): Informer<PoolObject> {
  return new Informer<PoolObject>({
    ...selector(scope),
    name: PLURALS.SpiderIPPool,
    kubeConfig: kc,
    path: `/apis/${GROUP}/${VERSION}/${PLURALS.SpiderIPPool}`,
    list: listCustom<PoolObject>(kc, GROUP, VERSION, PLURALS.SpiderIPPool),
    log,
  });
}

export function newReservedIPInformer(kc: KubeConfig, log: Logger, scope?: InformerScope): Informer<ReservedIPObject> {
  return new Informer<ReservedIPObject>({
    ...selector(scope),
    name: PLURALS.SpiderReservedIP,
    kubeConfig: kc,
    path: `/apis/${GROUP}/${VERSION}/${PLURALS.SpiderReservedIP}`,
    list: listCustom<ReservedIPObject>(kc, GROUP, VERSION, PLURALS.SpiderReservedIP),
    log,
  });
}

export function newSubnetInformer(kc: KubeConfig, log: Logger, scope?: InformerScope): Informer<SubnetObject> {
  return new Informer<SubnetObject>({
    ...selector(scope),
    name: PLURALS.SpiderSubnet,
    kubeConfig: kc,
    path: `/apis/${GROUP}/${VERSION}/${PLURALS.SpiderSubnet}`,
    list: listCustom<SubnetObject>(kc, GROUP, VERSION, PLURALS.SpiderSubnet),
    log,
  });
}

/** SpiderEndpoints of every namespace (or of scope.namespace). */
export function newEndpointInformer(kc: KubeConfig, log: Logger, scope?: InformerScope): Informer<EndpointObject> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const base = { group: GROUP, version: VERSION };
  const ns = scope?.namespace;
  return new Informer<EndpointObject>({
    ...selector(scope),
    name: PLURALS.SpiderEndpoint,
    kubeConfig: kc,
    path: ns ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURALS.SpiderEndpoint}` : `/apis/${GROUP}/${VERSION}/${PLURALS.SpiderEndpoint}`,
    list: (o) =>
      (ns
        ? api.listNamespacedCustomObject({ ...base, namespace: ns, plural: PLURALS.SpiderEndpoint, ...o })
        : api.listCustomObjectForAllNamespaces({ ...base, resourcePlural: PLURALS.SpiderEndpoint, ...o })) as Promise<KubernetesListObject<EndpointObject>>,
    log,
  });
}

/** Pods of every namespace, or of scope.namespace (the allocator's pod informer serves as well). */
export function newPodInformer(kc: KubeConfig, log: Logger, scope?: InformerScope): Informer<V1Pod> {
  const core = kc.makeApiClient(CoreV1Api);
  const ns = scope?.namespace;
  return new Informer<V1Pod>({
    ...selector(scope),
    name: 'pods',
    kubeConfig: kc,
    path: ns ? `/api/v1/namespaces/${ns}/pods` : '/api/v1/pods',
    list: (o) => (ns ? core.listNamespacedPod({ namespace: ns, ...o }) : core.listPodForAllNamespaces(o)),
    log,
  });
}
