// How many IPs a workload's auto pool holds. Spiderpool: pkg/ipam/utils.go getAutoPoolIPNumber
// (agent, third-party controllers) and the application controller (built-in kinds):
//   "N"  → N (fixed), "+N" → replicas + N (flexible),
//   no annotation → replicas + the cluster default flexible number
//     (clusterSubnetAutoPoolDefaultRedundantIPNumber; Spiderpool's default is 1),
//   except an orphan pod, which always gets 1, and third-party controllers, whose replica count we
//   cannot read, which must give a fixed "N".

import type { PoolIPNumber } from '../annotations/ip-number.js';
import { isOrphanPod, isThirdPartyController, type Application } from './application.js';

export interface AutoPoolSizeInput {
  app: Pick<Application, 'apiVersion' | 'kind' | 'namespace' | 'name'>;
  /** Desired pods of the application (see desiredReplicas); ignored for orphan pods. */
  replicas: number;
  /** Parsed `ipam.spidernet.io/ippool-ip-number`, if the workload has it. */
  ipNumber?: PoolIPNumber;
  /** Operator config: the flexible "+N" used when the annotation is absent. */
  defaultFlexibleIPNumber: number;
  /**
   * A third-party controller's replicas were read from its scale subresource: "+N" (and the default)
   * can then be resolved for it as for a built-in kind. Spiderpool cannot, and demands a fixed "N".
   */
  replicasFromScale?: boolean;
}

export type AutoPoolSize = { ok: true; size: number; ipNumber: PoolIPNumber } | { ok: false; message: string };

export function autoPoolSize(input: AutoPoolSizeInput): AutoPoolSize {
  const { app } = input;
  if (isOrphanPod(app)) return { ok: true, size: 1, ipNumber: { kind: 'fixed', count: 1 } };
  const knowsReplicas = !isThirdPartyController(app) || input.replicasFromScale === true;
  const ipNumber = input.ipNumber ?? (knowsReplicas ? { kind: 'flexible', extra: input.defaultFlexibleIPNumber } : undefined);
  if (ipNumber === undefined) {
    return {
      ok: false,
      message: `${app.kind} ${app.namespace}/${app.name} is not a built-in controller, so its auto pool needs a fixed size: set ipam.spidernet.io/ippool-ip-number to "N" (e.g. "3")`,
    };
  }
  if (ipNumber.kind === 'fixed') return { ok: true, size: ipNumber.count, ipNumber };
  if (!knowsReplicas) {
    return {
      ok: false,
      message: `${app.kind} ${app.namespace}/${app.name} is not a built-in controller, so "+N" cannot be resolved: set ipam.spidernet.io/ippool-ip-number to a fixed "N"`,
    };
  }
  return { ok: true, size: Math.max(0, input.replicas) + ipNumber.extra, ipNumber };
}

/** The replica count Spiderpool uses per built-in kind (nil replicas → 0; DaemonSet: desiredNumberScheduled). */
export interface WorkloadReplicaFields {
  kind: string;
  /** spec.replicas of Deployment / ReplicaSet / StatefulSet. */
  replicas?: number;
  /** status.desiredNumberScheduled of a DaemonSet. */
  desiredNumberScheduled?: number;
  /** spec.parallelism / spec.completions of a Job (or a CronJob's jobTemplate). */
  parallelism?: number;
  completions?: number;
}

export function desiredReplicas(w: WorkloadReplicaFields): number {
  switch (w.kind) {
    case 'Pod':
      return 1;
    case 'DaemonSet':
      return w.desiredNumberScheduled ?? 0;
    case 'Job':
    case 'CronJob':
      return jobPodCount(w.parallelism, w.completions);
    default:
      return w.replicas ?? 0;
  }
}

/** applicationinformers.CalculateJobPodNum: completions wins when set; 0 or unset counts as 1. */
export function jobPodCount(parallelism: number | undefined, completions: number | undefined): number {
  if (completions !== undefined) return completions === 0 ? 1 : completions;
  if (parallelism !== undefined) return parallelism === 0 ? 1 : parallelism;
  return 1;
}
