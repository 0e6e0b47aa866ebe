// Third-party workloads (any kind outside Spiderpool's built-in six, e.g. an OpenKruise CloneSet or
// an Argo Rollout) that own pods asking for auto pools. We cannot watch every custom kind, so their
// pods are the trigger: a pod with ipam.spidernet.io/subnet(s) whose top controller is third-party
// queues that controller; its desired replicas come from its scale subresource (so "+N" works, which
// Spiderpool cannot do), its uid from the object, and the annotations from its live pods.
import { CustomObjectsApi, type KubeConfig, KubernetesObjectApi, ApiException, type V1Pod } from '@kubernetes/client-node';
import { isThirdPartyController, wantsAutoPools } from '../../core/workload/index.js';

const PREFIX = '3p|';

export const thirdPartyKey = (apiVersion: string, kind: string, namespace: string, name: string): string => `${PREFIX}${apiVersion}|${kind}|${namespace}|${name}`;

export function parseThirdPartyKey(key: string): { apiVersion: string; kind: string; namespace: string; name: string } | undefined {
  if (!key.startsWith(PREFIX)) return undefined;
  const [apiVersion, kind, namespace, name] = key.slice(PREFIX.length).split('|');
  return apiVersion && kind && namespace && name ? { apiVersion, kind, namespace, name } : undefined;
}

/** The key of the pod's third-party controller, when the pod asks for auto pools. */
export function thirdPartyKeysOfPod(pod: V1Pod): string[] {
  if (!wantsAutoPools(pod.metadata?.annotations)) return [];
  const c = pod.metadata?.ownerReferences?.find((o) => o.controller);
  if (c === undefined || !isThirdPartyController(c)) return [];
  return [thirdPartyKey(c.apiVersion, c.kind, pod.metadata?.namespace ?? '', c.name)];
}

export interface ThirdPartyState {
  uid: string;
  replicas: number;
  deleting: boolean;
}

/** Reads a third-party controller's uid and desired replicas; undefined when it is gone. */
export type ThirdPartyReader = (apiVersion: string, kind: string, namespace: string, name: string) => Promise<ThirdPartyState | undefined>;

class Discovery extends KubernetesObjectApi {
  plural(apiVersion: string, kind: string) {
    return this.resource(apiVersion, kind);
  }
}

export function apiThirdPartyReader(kc: KubeConfig): ThirdPartyReader {
  const discovery = kc.makeApiClient(Discovery);
  const custom = kc.makeApiClient(CustomObjectsApi);
  return async (apiVersion, kind, namespace, name) => {
    const slash = apiVersion.indexOf('/');
    if (slash < 0) throw new Error(`${kind} ${namespace}/${name}: apiVersion ${apiVersion} has no group; only custom resources are third-party controllers`);
    const group = apiVersion.slice(0, slash);
    const version = apiVersion.slice(slash + 1);
    const res = await discovery.plural(apiVersion, kind);
    if (res === undefined) return undefined; // the kind is not served (CRD removed): the controller is gone
    try {
      const obj = (await custom.getNamespacedCustomObject({ group, version, namespace, plural: res.name, name })) as { metadata?: { uid?: string; deletionTimestamp?: string } };
      const scale = (await custom.getNamespacedCustomObjectScale({ group, version, namespace, plural: res.name, name })) as { spec?: { replicas?: number } };
      return { uid: obj.metadata?.uid ?? '', replicas: scale.spec?.replicas ?? 0, deleting: obj.metadata?.deletionTimestamp !== undefined };
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) {
        // 404 on the object: gone. 404 on the scale of an existing object: the kind has no scale
        // subresource, so its replicas are unknown (a fixed "N" is required then).
        const obj = await custom.getNamespacedCustomObject({ group, version, namespace, plural: res.name, name }).catch(() => undefined) as { metadata?: { uid?: string; deletionTimestamp?: string } } | undefined;
        return obj === undefined ? undefined : { uid: obj.metadata?.uid ?? '', replicas: -1, deleting: obj.metadata?.deletionTimestamp !== undefined };
      }
      throw new Error(`reading ${kind} ${namespace}/${name} (${apiVersion}) and its scale: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  };
}
