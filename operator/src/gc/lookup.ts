// The GC's reads that must come from the API, not a cache: the pod right before a release (a cache
// may not have seen a pod created a moment ago), and a StatefulSet's replicas.
import { ApiException, type AppsV1Api, type CoreV1Api } from '@kubernetes/client-node';
import type { GcLookup } from './gc-controller.js';

export function apiGcLookup(core: CoreV1Api, apps: AppsV1Api): GcLookup {
  return {
    async pod(namespace, name) {
      try {
        return await core.readNamespacedPod({ namespace, name });
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) return undefined;
        throw new Error(`reading pod ${namespace}/${name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    },
    async statefulSet(namespace, name) {
      try {
        const sts = await apps.readNamespacedStatefulSet({ namespace, name });
        return sts.metadata?.deletionTimestamp ? undefined : { start: sts.spec?.ordinals?.start ?? 0, replicas: sts.spec?.replicas ?? 1 };
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) return undefined;
        throw new Error(`reading statefulset ${namespace}/${name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    },
  };
}
