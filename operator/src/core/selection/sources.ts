// Which rule names this interface's pools, in Spiderpool's precedence
// (pkg/ipam/pool_selections.go getPoolCandidates). The first rule present wins outright; later rules
// are not consulted even if every pool the winner names is filtered out.
//   1. ipam.spidernet.io/subnets > subnet   (auto pools; only with the auto-pool feature on)
//   2. ipam.spidernet.io/ippools           (per interface; must list this interface)
//   3. ipam.spidernet.io/ippool            (its optional "interface" must be this interface)
//   4. namespace default-ipv4-ippool / default-ipv6-ippool (if either is non-empty)
//   5. CNI config default_ipv4_ippool / default_ipv6_ippool (if either is non-empty)
//   6. every pool with spec.default: true

import type { IPVersion } from '../../api/v2beta1/types.js';
import * as K from '../../api/v2beta1/constants.js';
import { parsePodIPPoolAnnotation } from '../annotations/ippool.js';
import { parsePodIPPoolsAnnotation } from '../annotations/ippools.js';
import { parseNamespaceDefaultPools } from '../annotations/namespace-defaults.js';
import type { AnnotationError } from '../annotations/result.js';
import { parseSubnetAnnotation, parseSubnetsAnnotation, type SubnetAnnotationItem } from '../annotations/subnet.js';
import { isOrphanPod } from '../workload/application.js';
import { autoPoolOwnerLabels } from '../workload/auto-pool-labels.js';
import { poolFamily } from './pool-family.js';
import { sortByPoolPriority } from './pool-priority.js';
import type { SelectionError, SelectionInput, SelectionSource } from './types.js';

export interface SourcePlan {
  source: SelectionSource;
  cleanGateway: boolean;
  /** Pool names or globs per family, in the order the rule gives them. */
  names: Record<IPVersion, string[]>;
}

type Planned = { ok: true; value: SourcePlan } | { ok: false; error: SelectionError };

const invalid = (error: AnnotationError): Planned => ({ ok: false, error: { kind: 'invalid-annotation', error, message: error.message } });
const plan = (source: SelectionSource, cleanGateway: boolean, v4: readonly string[], v6: readonly string[]): Planned => ({
  ok: true,
  value: { source, cleanGateway, names: { 4: [...v4], 6: [...v6] } },
});

function subnetItemFor(input: SelectionInput): { ok: true; item?: SubnetAnnotationItem } | { ok: false; error: SelectionError } {
  const anno = input.pod.annotations ?? {};
  const multi = anno[K.ANNO_SUBNETS];
  if (multi !== undefined) {
    const r = parseSubnetsAnnotation(multi);
    if (!r.ok) return invalid(r.error) as { ok: false; error: SelectionError };
    const item = r.value.find((i) => i.interface === input.nic);
    if (item === undefined) {
      return {
        ok: false,
        error: { kind: 'interface-not-in-annotation', message: `annotation ${K.ANNO_SUBNETS} has no item for interface ${input.nic}` },
      };
    }
    return { ok: true, item };
  }
  const single = anno[K.ANNO_SUBNET];
  if (single === undefined) return { ok: true };
  const r = parseSubnetAnnotation(single);
  // Spiderpool applies the single-subnet annotation to whichever interface asks.
  return r.ok ? { ok: true, item: r.value } : (invalid(r.error) as { ok: false; error: SelectionError });
}

/** The auto pools of the pod's application for this interface (Spiderpool findAppAutoPool). */
function fromSubnetAnnotation(input: SelectionInput, item: SubnetAnnotationItem): Planned {
  const app = input.podController;
  if (app === undefined || isOrphanPod(app)) {
    return { ok: false, error: { kind: 'auto-pool-unavailable', message: 'auto pools from a SpiderSubnet need a pod owned by a controller, not a bare pod' } };
  }
  const names: Record<IPVersion, string[]> = { 4: [], 6: [] };
  for (const [family, subnetName] of [
    [4, item.ipv4],
    [6, item.ipv6],
  ] as const) {
    if (subnetName === undefined) continue;
    const want = autoPoolOwnerLabels({ subnetName, app, ifName: input.nic, ipVersion: family });
    const found = input.pools.filter((p) => Object.entries(want).every(([k, v]) => p.metadata.labels?.[k] === v));
    if (found.length === 0) {
      return {
        ok: false,
        error: {
          kind: 'auto-pool-unavailable',
          message: `the IPv${family} auto pool of ${app.kind} ${app.namespace}/${app.name} for interface ${input.nic} from SpiderSubnet ${subnetName} does not exist yet; try again later`,
        },
      };
    }
    if (found.length > 1) {
      return {
        ok: false,
        error: {
          kind: 'auto-pool-unavailable',
          message: `${app.kind} ${app.namespace}/${app.name} owns several IPv${family} auto pools for interface ${input.nic} from SpiderSubnet ${subnetName}: ${found.map((p) => p.metadata.name).join(', ')}`,
        },
      };
    }
    names[family].push(found[0]?.metadata.name ?? '');
  }
  return plan('subnet-annotation', input.cniCleanGateway ?? false, names[4], names[6]);
}

export function planSources(input: SelectionInput): Planned {
  const anno = input.pod.annotations ?? {};
  const cniClean = input.cniCleanGateway ?? false;

  if (input.config.enableAutoPool === true) {
    const sub = subnetItemFor(input);
    if (!sub.ok) return sub;
    if (sub.item !== undefined) return fromSubnetAnnotation(input, sub.item);
  }

  const ippools = anno[K.ANNO_POD_IPPOOLS];
  if (ippools !== undefined) {
    const r = parsePodIPPoolsAnnotation(ippools);
    if (!r.ok) return invalid(r.error);
    const item = r.value.find((i) => i.interface === input.nic);
    if (item === undefined) {
      return {
        ok: false,
        error: {
          kind: 'interface-not-in-annotation',
          message: `annotation ${K.ANNO_POD_IPPOOLS} lists interfaces ${r.value.map((i) => i.interface).join(', ')} but not ${input.nic}, which the runtime asks for`,
        },
      };
    }
    return plan('pod-ippools-annotation', item.cleanGateway, item.ipv4, item.ipv6);
  }

  const ippool = anno[K.ANNO_POD_IPPOOL];
  if (ippool !== undefined) {
    const r = parsePodIPPoolAnnotation(ippool);
    if (!r.ok) return invalid(r.error);
    if (r.value.interface !== undefined && r.value.interface !== input.nic) {
      return {
        ok: false,
        error: {
          kind: 'interface-not-in-annotation',
          message: `annotation ${K.ANNO_POD_IPPOOL} is for interface ${r.value.interface}, but the runtime asks for ${input.nic}; use ${K.ANNO_POD_IPPOOLS} for several interfaces`,
        },
      };
    }
    return plan('pod-ippool-annotation', cniClean, r.value.ipv4, r.value.ipv6);
  }

  const ns = parseNamespaceDefaultPools(input.namespaceAnnotations);
  if (!ns.ok) return invalid(ns.error);
  if (ns.value.ipv4.length > 0 || ns.value.ipv6.length > 0) return plan('namespace-default', cniClean, ns.value.ipv4, ns.value.ipv6);

  const cni = input.cniDefaults ?? {};
  if ((cni.ipv4?.length ?? 0) > 0 || (cni.ipv6?.length ?? 0) > 0) return plan('cni-config-default', cniClean, cni.ipv4 ?? [], cni.ipv6 ?? []);

  const defaults = sortByPoolPriority(input.pools.filter((p) => p.spec.default === true));
  if (defaults.length === 0) {
    return {
      ok: false,
      error: {
        kind: 'no-pool-rule',
        message: `no pool is named for pod ${input.pod.namespace}/${input.pod.name} interface ${input.nic}: no ${K.ANNO_POD_IPPOOLS}/${K.ANNO_POD_IPPOOL} annotation, no namespace or CNI config default, and no pool with spec.default: true`,
      },
    };
  }
  const byFamily = (f: IPVersion) => defaults.filter((p) => poolFamily(p) === f).map((p) => p.metadata.name ?? '');
  return plan('cluster-default', cniClean, byFamily(4), byFamily(6));
}
