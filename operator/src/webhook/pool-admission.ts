// Admission of SpiderIPPools, SpiderSubnets and SpiderReservedIPs: the checks that compare an object
// with others or with the allocations (CEL in crds/*.yaml already refuses what one object alone can
// get wrong). Cheap, local checks run first; the range registry (which records on success) runs last.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { type IPAMBlock, IPAMBLOCK_PLURAL, IPAM_GROUP, IPAM_VERSION, LABEL_BLOCK_POOL, decodeEntry } from '../api/internal/ipamblock.js';
import { LABEL_IPPOOL_OWNER_SPIDER_SUBNET, SPIDER_FINALIZER } from '../api/v2beta1/constants.js';
import type { SpiderIPPool, SpiderReservedIP, SpiderSubnet } from '../api/v2beta1/types.js';
import { IPSet } from '../core/ip/index.js';
import type { Logger } from '../framework/logger.js';
import { addressAt, poolLabelValue } from '../service/block-layout.js';
import { type AdmissionRequest, type JsonPatchOp, type Verdict, allow, deny, pointer, unavailable } from './admission.js';
import {
  type FieldError,
  type Footprint,
  type HeldAddress,
  footprintOf,
  outsideSubnet,
  poolConflicts,
  removedAllocated,
  subnetConflicts,
} from './footprint.js';
import type { LiveView, RangeRegistry } from './range-registry.js';

export interface AdmissionDeps {
  registry: RangeRegistry;
  /** Cached pools and subnets (the operator's informers). */
  pools(): SpiderIPPool[];
  subnets(): SpiderSubnet[];
  /** The pool's recorded allocations, read fresh from the IPAMBlocks (never a lagging cache). */
  heldInPool(pool: string): Promise<HeldAddress[]>;
  log: Logger;
}

/** Caches as the registry's live view. */
export function liveView(pools: () => SpiderIPPool[], subnets: () => SpiderSubnet[]): LiveView {
  return {
    footprints() {
      const out: Footprint[] = [];
      for (const p of pools()) {
        const f = footprintOf('SpiderIPPool', p.metadata.name ?? '', p.spec);
        if ('addresses' in f) out.push(f);
      }
      for (const s of subnets()) {
        const f = footprintOf('SpiderSubnet', s.metadata.name ?? '', s.spec);
        if ('addresses' in f) out.push(f);
      }
      return out;
    },
    exists: (kind, name) => (kind === 'SpiderIPPool' ? pools() : subnets()).some((o) => o.metadata.name === name),
  };
}

const sameSpec = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The SpiderSubnet a pool belongs to: its controller owner, its owner label, else the one with its spec.subnet. */
export function subnetOfPool(pool: SpiderIPPool, subnets: readonly SpiderSubnet[], canonicalSubnet: string): { subnet?: SpiderSubnet; named?: string } {
  const owner = pool.metadata.ownerReferences?.find((o) => o.kind === 'SpiderSubnet' && o.controller)?.name;
  const named = owner ?? pool.metadata.labels?.[LABEL_IPPOOL_OWNER_SPIDER_SUBNET];
  if (named !== undefined) {
    const subnet = subnets.find((s) => s.metadata.name === named);
    return subnet ? { subnet, named } : { named };
  }
  const subnet = subnets.find((s) => {
    const f = footprintOf('SpiderSubnet', s.metadata.name ?? '', s.spec);
    return 'addresses' in f && f.subnet === canonicalSubnet;
  });
  return subnet ? { subnet } : {};
}

export async function admitPool(req: AdmissionRequest, deps: AdmissionDeps): Promise<Verdict> {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return allow();
  const pool = req.object as SpiderIPPool;
  const old = req.oldObject as SpiderIPPool | undefined;
  // Metadata-only updates (finalizer removal, labels) and status writers never touch addresses.
  if (req.operation === 'UPDATE' && old && sameSpec(old.spec, pool.spec)) return allow();
  const name = pool.metadata?.name ?? req.name ?? '';
  const f = footprintOf('SpiderIPPool', name, pool.spec ?? ({} as SpiderIPPool['spec']));
  if (!('addresses' in f)) return deny([f]);
  const ips = pool.spec.ips ?? [];

  const errors: FieldError[] = [];
  const { subnet, named } = subnetOfPool(pool, deps.subnets(), f.subnet);
  if (named !== undefined && subnet === undefined) {
    errors.push({ field: 'metadata.ownerReferences', message: `names SpiderSubnet ${named}, which does not exist; create the subnet first` });
  } else if (subnet !== undefined) {
    const sf = footprintOf('SpiderSubnet', subnet.metadata.name ?? '', subnet.spec);
    if ('addresses' in sf) errors.push(...outsideSubnet(f, ips, sf));
  }
  if (req.operation === 'UPDATE' && old) {
    try {
      errors.push(...removedAllocated(f.family, old.spec, f, pool.spec, await deps.heldInPool(name)));
    } catch (e) {
      return unavailable(`reading the IPAMBlocks of pool ${name}: ${errText(e)}`);
    }
  }
  if (errors.length > 0) return deny(errors);
  return record(deps, { footprint: f, check: (others) => poolConflicts(f, ips, others), dryRun: req.dryRun === true });
}

export async function admitSubnet(req: AdmissionRequest, deps: AdmissionDeps): Promise<Verdict> {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return allow();
  const subnet = req.object as SpiderSubnet;
  const old = req.oldObject as SpiderSubnet | undefined;
  if (req.operation === 'UPDATE' && old && sameSpec(old.spec, subnet.spec)) return allow();
  const name = subnet.metadata?.name ?? req.name ?? '';
  const f = footprintOf('SpiderSubnet', name, subnet.spec ?? ({} as SpiderSubnet['spec']));
  if (!('addresses' in f)) return deny([f]);
  if (req.operation === 'UPDATE') {
    // A subnet may not shrink under the pools carved from it.
    const errors: FieldError[] = [];
    for (const p of deps.pools()) {
      const pf = footprintOf('SpiderIPPool', p.metadata.name ?? '', p.spec);
      if (!('addresses' in pf) || subnetOfPool(p, [subnet], pf.subnet).subnet === undefined) continue;
      const outside = pf.addresses.subtract(f.family === pf.family ? f.addresses : IPSet.empty(pf.family));
      if (!outside.isEmpty) errors.push({ field: 'spec.ips', message: `SpiderIPPool ${pf.name} uses ${outside.ranges.length} range(s) this change takes away; shrink or delete the pool first` });
    }
    if (errors.length > 0) return deny(errors);
  }
  return record(deps, { footprint: f, check: (others) => subnetConflicts(f, others), dryRun: req.dryRun === true });
}

/** Reserved IPs may overlap pools (that is their point); only each entry's family is checked here. */
export function admitReservedIP(req: AdmissionRequest): Verdict {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return allow();
  const r = req.object as SpiderReservedIP;
  const errors: FieldError[] = [];
  (r.spec?.ips ?? []).forEach((entry, i) => {
    const family = r.spec.ipVersion ?? (entry.includes(':') ? 6 : 4);
    try {
      IPSet.parse(family, [entry]);
    } catch (e) {
      errors.push({ field: `spec.ips[${i}]`, message: (e as Error).message });
    }
  });
  return errors.length > 0 ? deny(errors) : allow();
}

/** Mutation of a new pool: the deletion finalizer, and spec.ipVersion derived from spec.subnet (as Spiderpool's webhook does). */
export function mutatePool(req: AdmissionRequest): Verdict {
  if (req.operation !== 'CREATE') return allow();
  const pool = req.object as SpiderIPPool;
  const patch: JsonPatchOp[] = [];
  const finalizers = pool.metadata?.finalizers;
  if (finalizers === undefined) patch.push({ op: 'add', path: '/metadata/finalizers', value: [SPIDER_FINALIZER] });
  else if (!finalizers.includes(SPIDER_FINALIZER)) patch.push({ op: 'add', path: '/metadata/finalizers/-', value: SPIDER_FINALIZER });
  if (pool.spec && pool.spec.ipVersion === undefined && typeof pool.spec.subnet === 'string') {
    patch.push({ op: 'add', path: `/spec/${pointer('ipVersion')}`, value: pool.spec.subnet.includes(':') ? 6 : 4 });
  }
  return allow(patch);
}

async function record(deps: AdmissionDeps, r: Parameters<RangeRegistry['admit']>[0]): Promise<Verdict> {
  try {
    const errors = await deps.registry.admit(r);
    return errors.length > 0 ? deny(errors) : allow();
  } catch (e) {
    deps.log.warn('range registry unavailable', { kind: r.footprint.kind, name: r.footprint.name, error: errText(e) });
    return unavailable(errText(e));
  }
}

/** The pool's allocations from a fresh list of its IPAMBlocks (label-narrowed, spec.pool checked). */
export function apiHeldInPool(kc: KubeConfig): (pool: string) => Promise<HeldAddress[]> {
  const api = kc.makeApiClient(CustomObjectsApi);
  return async (pool) => {
    const list = (await api.listClusterCustomObject({ group: IPAM_GROUP, version: IPAM_VERSION, plural: IPAMBLOCK_PLURAL, labelSelector: `${LABEL_BLOCK_POOL}=${poolLabelValue(pool)}` })) as { items: IPAMBlock[] };
    return heldInBlocks(list.items.filter((b) => b.spec?.pool === pool));
  };
}

export function heldInBlocks(blocks: readonly IPAMBlock[]): HeldAddress[] {
  const out: HeldAddress[] = [];
  for (const b of blocks) {
    const family = b.spec.cidr.includes(':') ? 6 : 4;
    for (const [key, text] of Object.entries(b.spec.allocations ?? {})) {
      const e = decodeEntry(text);
      out.push({ ip: addressAt(family, b.spec.cidr, Number(key)), pod: e instanceof Error ? '(unreadable record)' : e.pod });
    }
  }
  return out;
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
