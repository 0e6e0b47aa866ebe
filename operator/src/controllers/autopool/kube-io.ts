// The API writes of the auto-pool controller: SpiderSubnet status (compare-and-swap on
// resourceVersion) and SpiderIPPool create / patch / delete. Errors carry the object and the HTTP
// answer; a lost CAS race is a ConflictError so the caller re-reads and recomputes.
import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { GROUP, PLURALS, VERSION, type SpiderIPPool, type SpiderSubnet } from '../../api/v2beta1/types.js';
import { type ApiErrorMapper, ClusterCustomObjects, type CustomObjectOp, apiErrorDetail, httpStatus } from '../../framework/cluster-custom-objects.js';

export type SubnetObject = SpiderSubnet & KubernetesObject;
export type PoolObject = SpiderIPPool & KubernetesObject;

export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

export interface AutoPoolIO {
  getSubnet(name: string): Promise<SubnetObject | undefined>;
  /** Replaces the status; `subnet.metadata.resourceVersion` must be current (else ConflictError). */
  replaceSubnetStatus(subnet: SubnetObject): Promise<SubnetObject>;
  createPool(pool: SpiderIPPool): Promise<PoolObject>;
  /** Merge patch; with `resourceVersion` the patch applies only to that version (else ConflictError). */
  patchPool(name: string, patch: { metadata?: object; spec?: object }, resourceVersion?: string): Promise<PoolObject>;
  /** Deletes that very object (uid precondition); a pool already gone is fine. */
  deletePool(name: string, uid: string): Promise<void>;
}

const VERB: Record<CustomObjectOp, string> = { get: 'reading', create: 'creating', replace: 'writing', replaceStatus: 'writing', mergePatch: 'patching', delete: 'deleting' };

/** "patching SpiderIPPool p1: …"; a 409 (lost CAS race, or a uid precondition) is a ConflictError. */
const failure =
  (kind: string): ApiErrorMapper =>
  (e, op, name) => {
    const what = `${VERB[op]} ${kind} ${name}${op === 'replaceStatus' ? ' status' : ''}`;
    if (httpStatus(e) === 409) return new ConflictError(`${what}: changed meanwhile (HTTP 409)`, { cause: e });
    return new Error(`${what}: ${apiErrorDetail(e)}`, { cause: e });
  };

export class KubeAutoPoolIO implements AutoPoolIO {
  private readonly subnets: ClusterCustomObjects<SubnetObject>;
  private readonly pools: ClusterCustomObjects<PoolObject>;
  constructor(kc: KubeConfig) {
    const api = kc.makeApiClient(CustomObjectsApi);
    this.subnets = new ClusterCustomObjects(api, { group: GROUP, version: VERSION, plural: PLURALS.SpiderSubnet }, failure('SpiderSubnet'));
    this.pools = new ClusterCustomObjects(api, { group: GROUP, version: VERSION, plural: PLURALS.SpiderIPPool }, failure('SpiderIPPool'));
  }

  getSubnet(name: string): Promise<SubnetObject | undefined> {
    return this.subnets.get(name);
  }

  replaceSubnetStatus(subnet: SubnetObject): Promise<SubnetObject> {
    return this.subnets.replaceStatus(subnet);
  }

  createPool(pool: SpiderIPPool): Promise<PoolObject> {
    return this.pools.create(pool);
  }

  patchPool(name: string, patch: { metadata?: object; spec?: object }, resourceVersion?: string): Promise<PoolObject> {
    return this.pools.mergePatch(name, resourceVersion ? { ...patch, metadata: { ...(patch.metadata ?? {}), resourceVersion } } : patch);
  }

  deletePool(name: string, uid: string): Promise<void> {
    // 409 on the uid precondition: a new pool of that name, not ours to delete.
    return this.pools.delete(name, { uid }, { goneIsFine: true });
  }
}
