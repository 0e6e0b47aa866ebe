// The GC's reads that must come from the API, not a cache: the pod right before a release (a cache
// may not have seen a pod created a moment ago), and a StatefulSet's replicas.
import { ApiException, type AppsV1Api, type CoreV1Api } from '@kubernetes/client-node';
import type { GcLookup } from './gc-controller.js';

/** keepScaledDown: ordinals scaled away stay kept while the StatefulSet exists (STATEFULSET_KEEP_SCALED_DOWN_IPS). */
export function apiGcLookup(core: CoreV1Api, apps: AppsV1Api, opts: { keepScaledDown?: boolean } = {}): GcLookup {
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
        if (sts.metadata?.deletionTimestamp) return undefined;
        // Keeping scaled-away ordinals: every ordinal from start up counts as live.
        return { start: sts.spec?.ordinals?.start ?? 0, replicas: opts.keepScaledDown ? Number.MAX_SAFE_INTEGER : (sts.spec?.replicas ?? 1) };
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) return undefined;
        throw new Error(`reading statefulset ${namespace}/${name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    },
  };
}
