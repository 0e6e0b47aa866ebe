// The workload that owns a pod ("top controller" in Spiderpool: the Deployment above the ReplicaSet,
// the CronJob above the Job, or the Pod itself when it has no controller).

export interface Application {
  /** e.g. `apps/v1`, `batch/v1`, `v1`, or a third-party `group/version`. */
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

/** Spiderpool's constant.K8sAPIVersions × K8sKinds: everything else is a "third-party controller". */
const BUILTIN_API_VERSIONS = new Set(['v1', 'apps/v1', 'batch/v1']);
const BUILTIN_KINDS = new Set(['Pod', 'Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet', 'Job', 'CronJob']);

export function isThirdPartyController(app: Pick<Application, 'apiVersion' | 'kind'>): boolean {
  return !BUILTIN_API_VERSIONS.has(app.apiVersion) || !BUILTIN_KINDS.has(app.kind);
}

export function isOrphanPod(app: Pick<Application, 'apiVersion' | 'kind'>): boolean {
  return app.apiVersion === 'v1' && app.kind === 'Pod';
}

export function isStatefulSet(app: Pick<Application, 'apiVersion' | 'kind'>): boolean {
  return app.apiVersion === 'apps/v1' && app.kind === 'StatefulSet';
}
