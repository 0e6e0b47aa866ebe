// The allocator's read side of the cluster: informer caches for pods, namespaces, nodes, pools and
// reserved IPs, and a GET for a pod the cache has not seen yet (the kubelet calls CNI ADD moments
// after the pod is bound; our watch may be a few milliseconds behind).
import type { AppsV1Api, CoreV1Api, KubernetesObject, V1Namespace, V1Node, V1Pod } from '@kubernetes/client-node';
import { readLiveStatefulSet, readPod } from '../framework/api-reads.js';
import type { SpiderIPPool, SpiderReservedIP } from '../api/v2beta1/types.js';
import type { Informer } from '../framework/informer.js';
import type { ClusterView } from './allocator-service.js';
import type { ParentLookup } from '../controllers/spiderendpoint.js';
import type { Application } from '../core/workload/index.js';

export interface ClusterInformers {
  pods: Informer<V1Pod>;
  namespaces: Informer<V1Namespace>;
  nodes: Informer<V1Node>;
  pools: Informer<SpiderIPPool & KubernetesObject>;
  reservedIPs: Informer<SpiderReservedIP & KubernetesObject>;
}

/**
 * `parents` resolves a ReplicaSet's Deployment and a Job's CronJob (the pod's top controller, which
 * owns its auto pools); without it a pod's application is its direct controller.
 */
export function informerClusterView(inf: ClusterInformers, core: CoreV1Api, apps: AppsV1Api, parents?: ParentLookup): ClusterView {
  // Waiters for the next pool change (an ADD that raced ahead of its auto pool); one handler for all.
  const poolWaiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...poolWaiters]) w();
  };
  inf.pools.addEventHandler({ add: wake, update: wake, delete: wake });
  return {
    poolsChanged(ms) {
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          poolWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        poolWaiters.add(done);
      });
    },
    async application(pod) {
      const namespace = pod.metadata?.namespace ?? '';
      const c = pod.metadata?.ownerReferences?.find((o) => o.controller);
      if (c === undefined) return undefined;
      let top = { apiVersion: c.apiVersion, kind: c.kind, name: c.name, uid: c.uid };
      const builtin = c.apiVersion === 'apps/v1' || c.apiVersion === 'batch/v1';
      if (parents !== undefined && builtin && (c.kind === 'ReplicaSet' || c.kind === 'Job')) {
        const p = await parents(namespace, c.kind, c.name, c.uid);
        const wanted = c.kind === 'ReplicaSet' ? { kind: 'Deployment', apiVersion: 'apps/v1' } : { kind: 'CronJob', apiVersion: 'batch/v1' };
        if (p !== undefined && p.kind === wanted.kind && (p.apiVersion ?? wanted.apiVersion) === wanted.apiVersion && p.uid) {
          top = { apiVersion: wanted.apiVersion, kind: p.kind, name: p.name, uid: p.uid };
        }
      }
      return { ...top, namespace } satisfies Application;
    },
    async statefulSetOrdinals(namespace, name) {
      const sts = await readLiveStatefulSet(apps, namespace, name);
      return sts === undefined ? undefined : { start: sts.spec?.ordinals?.start ?? 0, replicas: sts.spec?.replicas ?? 1 };
    },
    async pod(namespace, name) {
      return inf.pods.get(`${namespace}/${name}`) ?? readPod(core, namespace, name);
    },
    namespace: (name) => inf.namespaces.get(name),
    nodeLabels: (name) => inf.nodes.get(name)?.metadata?.labels,
    pools: () => inf.pools.snapshot(),
    // Read from the API, not cached: asked only when a StatefulSet pod is deleted.
    async statefulSetReplicas(namespace, name) {
      const sts = await readLiveStatefulSet(apps, namespace, name);
      return sts === undefined ? undefined : (sts.spec?.replicas ?? 1);
    },
  };
}
