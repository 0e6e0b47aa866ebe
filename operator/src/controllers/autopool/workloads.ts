// The built-in workload kinds that can own auto pools, as informers and as one plain view (the
// application, its desired pod count, its pod template's annotations). Spiderpool's application
// controller watches the same six kinds; a ReplicaSet run by a Deployment and a Job run by a CronJob
// are not applications of their own (their top controller is).
import {
  AppsV1Api,
  BatchV1Api,
  type KubeConfig,
  type KubernetesObject,
  type V1CronJob,
  type V1DaemonSet,
  type V1Deployment,
  type V1Job,
  type V1ObjectMeta,
  type V1PodTemplateSpec,
  type V1ReplicaSet,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import * as K from '../../api/v2beta1/constants.js';
import { type Application, desiredReplicas } from '../../core/workload/index.js';
import { Informer } from '../../framework/informer.js';
import type { Logger } from '../../framework/logger.js';

export const WORKLOAD_KINDS = [K.KIND_DEPLOYMENT, K.KIND_REPLICASET, K.KIND_STATEFULSET, K.KIND_DAEMONSET, K.KIND_JOB, K.KIND_CRONJOB] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export const API_VERSION_OF: Record<WorkloadKind, string> = {
  Deployment: 'apps/v1',
  ReplicaSet: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
};

export interface WorkloadView {
  app: Application;
  replicas: number;
  templateAnnotations: Record<string, string>;
  deleting: boolean;
  /** Run by another controller (a Deployment's ReplicaSet, a CronJob's Job): not an application. */
  controlled: boolean;
  /** A third-party controller's replicas came from its scale subresource. */
  replicasFromScale?: boolean;
}

type AnyWorkload = V1Deployment | V1ReplicaSet | V1StatefulSet | V1DaemonSet | V1Job | V1CronJob;
export type WorkloadInformers = Record<WorkloadKind, Informer<AnyWorkload & KubernetesObject>>;

/** `Kind/namespace/name`: the reconcile key of one application. */
export const workloadKey = (kind: string, namespace: string, name: string): string => `${kind}/${namespace}/${name}`;

export function parseWorkloadKey(key: string): { kind: WorkloadKind; namespace: string; name: string } | undefined {
  const [kind, namespace, name] = key.split('/');
  if (!kind || !namespace || !name || !(WORKLOAD_KINDS as readonly string[]).includes(kind)) return undefined;
  return { kind: kind as WorkloadKind, namespace, name };
}

export function toWorkloadView(kind: WorkloadKind, obj: AnyWorkload): WorkloadView {
  const meta: V1ObjectMeta = obj.metadata ?? {};
  const app: Application = { apiVersion: API_VERSION_OF[kind], kind, namespace: meta.namespace ?? '', name: meta.name ?? '', uid: meta.uid ?? '' };
  let template: V1PodTemplateSpec | undefined;
  let replicas = 0;
  switch (kind) {
    case 'CronJob': {
      const spec = (obj as V1CronJob).spec?.jobTemplate.spec;
      template = spec?.template;
      replicas = desiredReplicas({ kind, ...opt('parallelism', spec?.parallelism), ...opt('completions', spec?.completions) });
      break;
    }
    case 'Job': {
      const spec = (obj as V1Job).spec;
      template = spec?.template;
      replicas = desiredReplicas({ kind, ...opt('parallelism', spec?.parallelism), ...opt('completions', spec?.completions) });
      break;
    }
    case 'DaemonSet':
      template = (obj as V1DaemonSet).spec?.template;
      replicas = desiredReplicas({ kind, ...opt('desiredNumberScheduled', (obj as V1DaemonSet).status?.desiredNumberScheduled) });
      break;
    default: {
      const spec = (obj as V1Deployment | V1ReplicaSet | V1StatefulSet).spec;
      template = spec?.template;
      // nil spec.replicas defaults to 1 in the API server; a read object always has it set.
      replicas = desiredReplicas({ kind, replicas: spec?.replicas ?? 1 });
    }
  }
  return {
    app,
    replicas,
    templateAnnotations: template?.metadata?.annotations ?? {},
    deleting: meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null,
    // Spiderpool's top-controller rule: only a Deployment above a ReplicaSet and a CronJob above a Job
    // take the application over; a ReplicaSet run by anything else (an Argo Rollout) is its own.
    controlled: (meta.ownerReferences ?? []).some(
      (o) => o.controller === true && ((kind === 'ReplicaSet' && o.kind === 'Deployment' && o.apiVersion === 'apps/v1') || (kind === 'Job' && o.kind === 'CronJob' && o.apiVersion === 'batch/v1')),
    ),
  };
}

function opt<K extends string>(k: K, v: number | undefined | null): Partial<Record<K, number>> {
  return v === undefined || v === null ? {} : ({ [k]: v } as Record<K, number>);
}

/** One cluster-wide informer per kind. */
export function newWorkloadInformers(kc: KubeConfig, log: Logger): WorkloadInformers {
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const mk = <T extends AnyWorkload & KubernetesObject>(name: string, path: string, list: (o: object) => Promise<{ items: T[] }>) =>
    new Informer<AnyWorkload & KubernetesObject>({ name, kubeConfig: kc, path, list: list as never, log });
  return {
    Deployment: mk('deployments', '/apis/apps/v1/deployments', (o) => apps.listDeploymentForAllNamespaces(o)),
    ReplicaSet: mk('replicasets', '/apis/apps/v1/replicasets', (o) => apps.listReplicaSetForAllNamespaces(o)),
    StatefulSet: mk('statefulsets', '/apis/apps/v1/statefulsets', (o) => apps.listStatefulSetForAllNamespaces(o)),
    DaemonSet: mk('daemonsets', '/apis/apps/v1/daemonsets', (o) => apps.listDaemonSetForAllNamespaces(o)),
    Job: mk('jobs', '/apis/batch/v1/jobs', (o) => batch.listJobForAllNamespaces(o)),
    CronJob: mk('cronjobs', '/apis/batch/v1/cronjobs', (o) => batch.listCronJobForAllNamespaces(o)),
  };
}
