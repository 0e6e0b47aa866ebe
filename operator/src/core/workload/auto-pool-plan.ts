// What auto pools a workload wants, from its pod template's annotations and its replica count:
// one pool per (interface, IP family) named in ipam.spidernet.io/subnets (or subnet), each sized
// by ipam.spidernet.io/ippool-ip-number (or replicas + the operator's default), kept or reclaimed
// with the workload per ipam.spidernet.io/ippool-reclaim. Spiderpool reads these annotations from
// spec.template.metadata.annotations (its pods inherit them, and the ADD path reads them there).

import * as K from '../../api/v2beta1/constants.js';
import type { IPVersion } from '../../api/v2beta1/types.js';
import { parsePoolIPNumberAnnotation, type PoolIPNumber } from '../annotations/ip-number.js';
import { parseReclaimAnnotation } from '../annotations/reclaim.js';
import { parseSubnetAnnotation, parseSubnetsAnnotation, type SubnetAnnotationItem } from '../annotations/subnet.js';
import type { Application } from './application.js';
import { autoPoolSize } from './auto-pool-size.js';

export interface AutoPoolWant {
  ifName: string;
  ipVersion: IPVersion;
  subnetName: string;
}

export interface AutoPoolPlan {
  pools: AutoPoolWant[];
  size: number;
  ipNumber: PoolIPNumber;
  reclaim: boolean;
}

export type PlanResult = { ok: true; plan?: AutoPoolPlan } | { ok: false; message: string };

/** Does the template ask for auto pools at all (either subnet annotation present)? */
export function wantsAutoPools(templateAnnotations: Readonly<Record<string, string>> | undefined): boolean {
  return templateAnnotations?.[K.ANNO_SUBNETS] !== undefined || templateAnnotations?.[K.ANNO_SUBNET] !== undefined;
}

/**
 * `{ok: true}` without a plan: the workload does not use auto pools. Errors name the annotation and
 * the fix (from the annotation parsers).
 */
export function autoPoolPlan(input: {
  app: Application;
  replicas: number;
  templateAnnotations: Readonly<Record<string, string>> | undefined;
  defaultFlexibleIPNumber: number;
  /** replicas came from a third-party controller's scale subresource (see autoPoolSize). */
  replicasFromScale?: boolean;
}): PlanResult {
  const anno = input.templateAnnotations ?? {};
  if (!wantsAutoPools(anno)) return { ok: true };
  let items: SubnetAnnotationItem[];
  const multi = anno[K.ANNO_SUBNETS];
  if (multi !== undefined) {
    const r = parseSubnetsAnnotation(multi);
    if (!r.ok) return { ok: false, message: r.error.message };
    items = r.value;
  } else {
    const r = parseSubnetAnnotation(anno[K.ANNO_SUBNET]!);
    if (!r.ok) return { ok: false, message: r.error.message };
    items = [r.value];
  }
  let ipNumber: PoolIPNumber | undefined;
  const rawNumber = anno[K.ANNO_IPPOOL_IP_NUMBER];
  if (rawNumber !== undefined) {
    const r = parsePoolIPNumberAnnotation(rawNumber);
    if (!r.ok) return { ok: false, message: r.error.message };
    ipNumber = r.value;
  }
  const reclaim = parseReclaimAnnotation(anno[K.ANNO_IPPOOL_RECLAIM]);
  if (!reclaim.ok) return { ok: false, message: reclaim.error.message };
  const size = autoPoolSize({
    app: input.app,
    replicas: input.replicas,
    ...(ipNumber ? { ipNumber } : {}),
    defaultFlexibleIPNumber: input.defaultFlexibleIPNumber,
    ...(input.replicasFromScale ? { replicasFromScale: true } : {}),
  });
  if (!size.ok) return { ok: false, message: size.message };

  const pools: AutoPoolWant[] = [];
  for (const item of items) {
    if (item.ipv4 !== undefined) pools.push({ ifName: item.interface, ipVersion: 4, subnetName: item.ipv4 });
    if (item.ipv6 !== undefined) pools.push({ ifName: item.interface, ipVersion: 6, subnetName: item.ipv6 });
  }
  return { ok: true, plan: { pools, size: size.size, ipNumber: size.ipNumber, reclaim: reclaim.value } };
}

/** The `application` field of a ledger entry: `apps/v1:Deployment:ns:name` (Spiderpool's form). */
export function applicationRef(app: Pick<Application, 'apiVersion' | 'kind' | 'namespace' | 'name'>): string {
  return `${app.apiVersion}:${app.kind}:${app.namespace}:${app.name}`;
}
