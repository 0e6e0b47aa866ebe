// Whether one pool may serve this pod's interface, checked in the order of Spiderpool's
// pkg/ipam/allocate.go selectByPod: terminating, disabled, IP version, node (nodeName, else
// nodeAffinity), namespace (namespaceName, else namespaceAffinity), pod affinity (for an auto pool:
// the owning application), multusName. The first failing check is the recorded reason.

import type { IPVersion, SpiderIPPool } from '../../api/v2beta1/types.js';
import { isAutoCreatedPool, matchesAutoPoolAffinity } from '../workload/auto-pool-labels.js';
import { evaluateLabelSelector } from './label-selector.js';
import { poolFamily } from './pool-family.js';
import type { Rejection, RejectionReason, SelectionInput } from './types.js';

type Verdict = { reason: RejectionReason; detail: string } | undefined;

function selectorCheck(
  what: string,
  selector: Parameters<typeof evaluateLabelSelector>[0],
  labels: Readonly<Record<string, string>> | undefined,
  mismatch: RejectionReason,
): Verdict {
  const v = evaluateLabelSelector(selector, labels);
  if (!v.valid) return { reason: 'invalid-selector', detail: `${what} is invalid: ${v.reason}` };
  return v.matches ? undefined : { reason: mismatch, detail: `${what} does not match` };
}

function nodeCheck(pool: SpiderIPPool, input: SelectionInput): Verdict {
  const names = pool.spec.nodeName ?? [];
  if (names.length > 0) {
    return names.includes(input.pod.nodeName)
      ? undefined
      : { reason: 'node-name-mismatch', detail: `node "${input.pod.nodeName}" is not in spec.nodeName` };
  }
  if (pool.spec.nodeAffinity === undefined) return undefined;
  return selectorCheck(`spec.nodeAffinity for node "${input.pod.nodeName}"`, pool.spec.nodeAffinity, input.nodeLabels, 'node-affinity-mismatch');
}

function namespaceCheck(pool: SpiderIPPool, input: SelectionInput): Verdict {
  const names = pool.spec.namespaceName ?? [];
  if (names.length > 0) {
    return names.includes(input.pod.namespace)
      ? undefined
      : { reason: 'namespace-name-mismatch', detail: `namespace "${input.pod.namespace}" is not in spec.namespaceName` };
  }
  if (pool.spec.namespaceAffinity === undefined) return undefined;
  return selectorCheck(
    `spec.namespaceAffinity for namespace "${input.pod.namespace}"`,
    pool.spec.namespaceAffinity,
    input.namespaceLabels,
    'namespace-affinity-mismatch',
  );
}

function podAffinityCheck(pool: SpiderIPPool, input: SelectionInput): Verdict {
  const affinity = pool.spec.podAffinity;
  if (affinity === undefined) return undefined;
  // An auto pool belongs to one application; Spiderpool matches its app-* labels against the pod's
  // top controller (IsMatchAutoPoolAffinity), not against the pod's own labels.
  if (isAutoCreatedPool(pool)) {
    const app = input.podController;
    if (app === undefined) return { reason: 'auto-pool-owner-mismatch', detail: "auto pool, but the pod's owning application is unknown" };
    return matchesAutoPoolAffinity(affinity, app)
      ? undefined
      : { reason: 'auto-pool-owner-mismatch', detail: `auto pool of another application, not ${app.kind} ${app.namespace}/${app.name}` };
  }
  return selectorCheck(`spec.podAffinity for pod ${input.pod.namespace}/${input.pod.name}`, affinity, input.pod.labels, 'pod-affinity-mismatch');
}

function multusCheck(pool: SpiderIPPool, input: SelectionInput): Verdict {
  const wanted = pool.spec.multusName ?? [];
  if (wanted.length === 0) return undefined;
  const actual = input.multusNetwork;
  if (actual === undefined) {
    return { reason: 'multus-name-mismatch', detail: `spec.multusName is set but interface ${input.nic} has no known multus network` };
  }
  const qualified = wanted.map((n) => (n.includes('/') ? n : `${input.config.multusNamespace}/${n}`));
  return qualified.includes(actual)
    ? undefined
    : { reason: 'multus-name-mismatch', detail: `interface ${input.nic} uses multus network ${actual}, not one of [${qualified.join(', ')}]` };
}

export function checkPool(pool: SpiderIPPool, family: IPVersion, input: SelectionInput): Verdict {
  if (pool.metadata.deletionTimestamp !== undefined && pool.metadata.deletionTimestamp !== null) {
    return { reason: 'terminating', detail: 'the pool is being deleted' };
  }
  if (pool.spec.disable === true) return { reason: 'disabled', detail: 'spec.disable is true' };
  const actual = poolFamily(pool);
  if (actual !== family) return { reason: 'ip-version-mismatch', detail: `an IPv${family} pool is needed, this pool is IPv${actual}` };
  return nodeCheck(pool, input) ?? namespaceCheck(pool, input) ?? podAffinityCheck(pool, input) ?? multusCheck(pool, input);
}

export function rejection(pool: string, family: IPVersion, verdict: NonNullable<Verdict>): Rejection {
  return { pool, family, reason: verdict.reason, detail: verdict.detail };
}
