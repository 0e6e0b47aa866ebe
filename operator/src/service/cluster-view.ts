// The allocator's read side of the cluster: informer caches for pods, namespaces, nodes, pools and
// reserved IPs, and a GET for a pod the cache has not seen yet (the kubelet calls CNI ADD moments
// after the pod is bound; our watch may be a few milliseconds behind).
import { ApiException, type AppsV1Api, type CoreV1Api, type KubernetesObject, type V1Namespace, type V1Node, type V1Pod } from '@kubernetes/client-node';
import type { SpiderIPPool, SpiderReservedIP } from '../api/v2beta1/types.js';
import type { Informer } from '../framework/informer.js';
import type { ClusterView } from './allocator-service.js';

export interface ClusterInformers {
  pods: Informer<V1Pod>;
  namespaces: Informer<V1Namespace>;
  nodes: Informer<V1Node>;
  pools: Informer<SpiderIPPool & KubernetesObject>;
  reservedIPs: Informer<SpiderReservedIP & KubernetesObject>;
}

export function informerClusterView(inf: ClusterInformers, core: CoreV1Api, apps: AppsV1Api): ClusterView {
  return {
    async pod(namespace, name) {
      const cached = inf.pods.get(`${namespace}/${name}`);
      if (cached !== undefined) return cached;
      try {
        return await core.readNamespacedPod({ namespace, name });
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) return undefined;
        throw new Error(`reading pod ${namespace}/${name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    },
    namespace: (name) => inf.namespaces.get(name),
    nodeLabels: (name) => inf.nodes.get(name)?.metadata?.labels,
    pools: () => inf.pools.list(),
    // Read from the API, not cached: asked only when a StatefulSet pod is deleted.
    async statefulSetReplicas(namespace, name) {
      try {
        const sts = await apps.readNamespacedStatefulSet({ namespace, name });
        return sts.metadata?.deletionTimestamp ? undefined : (sts.spec?.replicas ?? 1);
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) return undefined;
        throw new Error(`reading statefulset ${namespace}/${name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    },
  };
}
