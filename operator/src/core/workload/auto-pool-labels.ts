// Labels, annotation and pod affinity of an auto pool, as Spiderpool's subnet manager writes them
// (pkg/subnetmanager ReconcileAutoIPPool; helpers in applicationinformers/utils.go and
// pkg/ippoolmanager/utils.go). Selection uses the same helpers to find a workload's auto pool and to
// check that a pod belongs to the application an auto pool was made for.

import type { LabelSelector } from '../../api/v2beta1/meta.js';
import type { IPVersion, SpiderIPPool } from '../../api/v2beta1/types.js';
import * as K from '../../api/v2beta1/constants.js';
import type { PoolIPNumber } from '../annotations/ip-number.js';
import type { Application } from './application.js';

/** `apps/v1` → `apps_v1`, `v1` → `v1` (a label value cannot hold '/'): ApplicationLabelGV. */
export function applicationLabelGV(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? apiVersion : `${apiVersion.slice(0, slash)}_${apiVersion.slice(slash + 1)}`;
}

/** `172.18.40.0/24` → `172-18-40-0-24`, `fd00::/64` → `fd00---64` (ip.CIDRToLabelValue). */
export function cidrToLabelValue(cidr: string): string {
  return cidr.replace(/[.:/]/g, '-');
}

export function ipVersionLabelValue(v: IPVersion): string {
  return v === 4 ? K.LABEL_VALUE_IP_VERSION_V4 : K.LABEL_VALUE_IP_VERSION_V6;
}

export interface AutoPoolIdentity {
  subnetName: string;
  app: Application;
  ifName: string;
  ipVersion: IPVersion;
}

/** The labels that identify one application's auto pool for one interface and family. */
export function autoPoolOwnerLabels(id: AutoPoolIdentity): Record<string, string> {
  return {
    [K.LABEL_IPPOOL_OWNER_SPIDER_SUBNET]: id.subnetName,
    [K.LABEL_IPPOOL_OWNER_APPLICATION_GV]: applicationLabelGV(id.app.apiVersion),
    [K.LABEL_IPPOOL_OWNER_APPLICATION_KIND]: id.app.kind,
    [K.LABEL_IPPOOL_OWNER_APPLICATION_NAMESPACE]: id.app.namespace,
    [K.LABEL_IPPOOL_OWNER_APPLICATION_NAME]: id.app.name,
    [K.LABEL_IPPOOL_OWNER_APPLICATION_UID]: id.app.uid,
    [K.LABEL_IPPOOL_INTERFACE]: id.ifName,
    [K.LABEL_IPPOOL_IP_VERSION]: ipVersionLabelValue(id.ipVersion),
  };
}

/** All labels Spiderpool sets on a new auto pool: owner labels + reclaim + pool CIDR. */
export function autoPoolLabels(id: AutoPoolIdentity & { reclaim: boolean; subnetCIDR: string }): Record<string, string> {
  return {
    ...autoPoolOwnerLabels(id),
    [K.LABEL_IPPOOL_RECLAIM]: id.reclaim ? 'true' : 'false',
    [K.LABEL_IPPOOL_CIDR]: cidrToLabelValue(id.subnetCIDR),
  };
}

/** The pool annotation recording how its size was asked for ("+1" flexible, "3" fixed). */
export function autoPoolAnnotations(ipNumber: PoolIPNumber): Record<string, string> {
  return { [K.ANNO_IPPOOL_IP_NUMBER]: ipNumber.kind === 'flexible' ? `+${ipNumber.extra}` : String(ipNumber.count) };
}

function appAffinityLabels(app: Pick<Application, 'apiVersion' | 'kind' | 'namespace' | 'name'>): Record<string, string> {
  const slash = app.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : app.apiVersion.slice(0, slash);
  const version = slash < 0 ? app.apiVersion : app.apiVersion.slice(slash + 1);
  return {
    [K.AUTO_POOL_POD_AFFINITY_APP_API_GROUP]: group,
    [K.AUTO_POOL_POD_AFFINITY_APP_API_VERSION]: version,
    [K.AUTO_POOL_POD_AFFINITY_APP_KIND]: app.kind,
    [K.AUTO_POOL_POD_AFFINITY_APP_NAMESPACE]: app.namespace,
    [K.AUTO_POOL_POD_AFFINITY_APP_NAME]: app.name,
  };
}

/** spec.podAffinity of an auto pool (ippoolmanager.NewAutoPoolPodAffinity). */
export function autoPoolPodAffinity(app: Pick<Application, 'apiVersion' | 'kind' | 'namespace' | 'name'>): LabelSelector {
  return { matchLabels: appAffinityLabels(app) };
}

/** Only auto pools carry the owner-application-name label (ippoolmanager.IsAutoCreatedIPPool). */
export function isAutoCreatedPool(pool: Pick<SpiderIPPool, 'metadata'>): boolean {
  return pool.metadata.labels?.[K.LABEL_IPPOOL_OWNER_APPLICATION_NAME] !== undefined;
}

/**
 * Does the auto pool's podAffinity name this application? Spiderpool's IsMatchAutoPoolAffinity
 * compares the five app-* matchLabels with the pod's top controller, not with the pod's labels.
 */
export function matchesAutoPoolAffinity(
  podAffinity: LabelSelector | undefined,
  app: Pick<Application, 'apiVersion' | 'kind' | 'namespace' | 'name'>,
): boolean {
  if (podAffinity === undefined) return false;
  const want = appAffinityLabels(app);
  return Object.entries(want).every(([k, v]) => (podAffinity.matchLabels?.[k] ?? '') === v);
}
