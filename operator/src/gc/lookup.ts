// The GC's reads that must come from the API, not a cache: the pod right before a release (a cache
// may not have seen a pod created a moment ago), and a StatefulSet's replicas.
import type { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { readLiveStatefulSet, readPod } from '../framework/api-reads.js';
import type { GcLookup } from './gc-controller.js';

/** keepScaledDown: ordinals scaled away stay kept while the StatefulSet exists (STATEFULSET_KEEP_SCALED_DOWN_IPS). */
export function apiGcLookup(core: CoreV1Api, apps: AppsV1Api, opts: { keepScaledDown?: boolean } = {}): GcLookup {
  return {
    pod: (namespace, name) => readPod(core, namespace, name),
    async statefulSet(namespace, name) {
      const sts = await readLiveStatefulSet(apps, namespace, name);
      if (sts === undefined) return undefined;
      // Keeping scaled-away ordinals: every ordinal from start up counts as live.
      return { start: sts.spec?.ordinals?.start ?? 0, replicas: opts.keepScaledDown ? Number.MAX_SAFE_INTEGER : (sts.spec?.replicas ?? 1) };
    },
  };
}
