// Builders for the controllers' unit tests: pools and IPAMBlocks as the allocator writes them.
import { type BlockEntry, type IPAMBlock, IPAM_API_VERSION, encodeEntry } from '../../src/api/internal/ipamblock.js';
import type { SpiderIPPool, SpiderIPPoolSpec } from '../../src/api/v2beta1/types.js';
import { slotOf } from '../../src/service/block-layout.js';

export function pool(name: string, spec: SpiderIPPoolSpec, uid = `uid-${name}`): SpiderIPPool {
  return { apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderIPPool', metadata: { name, uid }, spec };
}

export interface Alloc {
  ip: string;
  pod: string;
  uid: string;
  nic?: string;
  node?: string;
  at?: string;
  ok?: string;
}

/** The blocks holding `allocs` in `poolName` (family from the addresses), as the committer lays them out. */
export function blocks(poolName: string, allocs: readonly Alloc[]): IPAMBlock[] {
  const out = new Map<string, IPAMBlock>();
  for (const a of allocs) {
    const family = a.ip.includes(':') ? 6 : 4;
    const slot = slotOf(poolName, family, a.ip);
    let b = out.get(slot.block.name);
    if (!b) {
      b = { apiVersion: IPAM_API_VERSION, kind: 'IPAMBlock', metadata: { name: slot.block.name }, spec: { pool: poolName, cidr: slot.block.cidr, seq: 0, allocations: {} } };
      out.set(slot.block.name, b);
    }
    b.spec.seq++;
    const entry: BlockEntry = {
      uid: a.uid,
      pod: a.pod,
      nic: a.nic ?? 'eth0',
      seq: b.spec.seq,
      cid: 'c1',
      ...(a.node !== undefined ? { node: a.node } : { node: 'n1' }),
      ...(a.at !== undefined ? { at: a.at } : {}),
      ...(a.ok !== undefined ? { ok: a.ok } : {}),
    };
    b.spec.allocations[String(slot.offset)] = encodeEntry(entry);
    b.spec.allocated = Object.keys(b.spec.allocations).length;
  }
  return [...out.values()];
}
