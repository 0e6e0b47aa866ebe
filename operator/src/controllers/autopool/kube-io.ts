// The API writes of the auto-pool controller: SpiderSubnet status (compare-and-swap on
// resourceVersion) and SpiderIPPool create / patch / delete. Errors carry the object and the HTTP
// answer; a lost CAS race is a ConflictError so the caller re-reads and recomputes.
import { ApiException, CustomObjectsApi, type KubeConfig, type KubernetesObject, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, PLURALS, VERSION, type SpiderIPPool, type SpiderSubnet } from '../../api/v2beta1/types.js';

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

const base = { group: GROUP, version: VERSION };

function fail(what: string, e: unknown): never {
  if (e instanceof ApiException && e.code === 409) throw new ConflictError(`${what}: changed meanwhile (HTTP 409)`, { cause: e });
  const detail = e instanceof ApiException ? `HTTP ${e.code}: ${String(e.body).slice(0, 300)}` : e instanceof Error ? e.message : String(e);
  throw new Error(`${what}: ${detail}`, { cause: e });
}

export class KubeAutoPoolIO implements AutoPoolIO {
  private readonly api: CustomObjectsApi;
  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  async getSubnet(name: string): Promise<SubnetObject | undefined> {
    try {
      return (await this.api.getClusterCustomObject({ ...base, plural: PLURALS.SpiderSubnet, name })) as SubnetObject;
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return undefined;
      return fail(`reading SpiderSubnet ${name}`, e);
    }
  }

  async replaceSubnetStatus(subnet: SubnetObject): Promise<SubnetObject> {
    const name = subnet.metadata?.name ?? '';
    try {
      return (await this.api.replaceClusterCustomObjectStatus({ ...base, plural: PLURALS.SpiderSubnet, name, body: subnet })) as SubnetObject;
    } catch (e) {
      return fail(`writing SpiderSubnet ${name} status`, e);
    }
  }

  async createPool(pool: SpiderIPPool): Promise<PoolObject> {
    try {
      return (await this.api.createClusterCustomObject({ ...base, plural: PLURALS.SpiderIPPool, body: pool })) as PoolObject;
    } catch (e) {
      return fail(`creating SpiderIPPool ${pool.metadata.name}`, e);
    }
  }

  async patchPool(name: string, patch: { metadata?: object; spec?: object }, resourceVersion?: string): Promise<PoolObject> {
    const body = resourceVersion ? { ...patch, metadata: { ...(patch.metadata ?? {}), resourceVersion } } : patch;
    try {
      return (await this.api.patchClusterCustomObject(
        { ...base, plural: PLURALS.SpiderIPPool, name, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as PoolObject;
    } catch (e) {
      return fail(`patching SpiderIPPool ${name}`, e);
    }
  }

  async deletePool(name: string, uid: string): Promise<void> {
    try {
      await this.api.deleteClusterCustomObject({ ...base, plural: PLURALS.SpiderIPPool, name, body: { preconditions: { uid } } });
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return;
      // 409 on the uid precondition: a new pool of that name, not ours to delete.
      fail(`deleting SpiderIPPool ${name}`, e);
    }
  }
}
