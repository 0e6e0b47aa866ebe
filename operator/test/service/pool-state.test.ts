// PoolState rebuilt from blocks: recorded addresses are claimed (never handed out again), indexed by
// attachment, pod and node; a spec change keeps held addresses and refuses to drop one.
import type { SpiderIPPool, SpiderReservedIP } from '../../src/api/v2beta1/types.js';
import { applyBatch } from '../../src/service/block-committer.js';
import { slotOf } from '../../src/service/block-layout.js';
import { PoolState } from '../../src/service/pool-state.js';

const pool = (name: string, ips: string[], gateway?: string): SpiderIPPool => ({
  apiVersion: 'spiderpool.spidernet.io/v2beta1',
  kind: 'SpiderIPPool',
  metadata: { name, uid: `uid-${name}` },
  spec: { subnet: '10.0.0.0/16', ips, ...(gateway ? { gateway } : {}) },
});
const reserved: SpiderReservedIP[] = [{ apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderReservedIP', metadata: { name: 'r' }, spec: { ips: ['10.0.1.2'] } }];
const entry = (uid: string, pod: string) => ({ uid, pod, nic: 'eth0', cid: `c-${uid}`, node: 'n1' });
const block = (p: string, ip: string, uid: string, pod: string) => {
  const s = slotOf(p, 4, ip);
  return applyBatch(null, s.block, undefined, [{ op: 'allocate', offset: s.offset, entry: entry(uid, pod) }]).next;
};

describe('PoolState', () => {
  it('claims recorded addresses and skips the gateway and reserved IPs', () => {
    const { state, problems } = PoolState.rebuild([pool('a', ['10.0.1.1-10.0.1.5'], '10.0.1.1')], reserved, [block('a', '10.0.1.3', 'u1', 'ns/p1')]);
    expect(problems).toEqual([]);
    const alloc = state.pool('a')!.allocator;
    expect([alloc.allocate(), alloc.allocate(), alloc.allocate()]).toEqual(['10.0.1.4', '10.0.1.5', undefined]);
    expect(state.forAttachment('u1', 'eth0').map((h) => h.ip)).toEqual(['10.0.1.3']);
    expect(state.forPod('ns', 'p1')).toHaveLength(1);
    expect(state.forNode('n1')).toHaveLength(1);
  });

  it('reports records of unknown pools and addresses the pool no longer has, and keeps them releasable', () => {
    const { state, problems } = PoolState.rebuild([pool('a', ['10.0.1.10'])], [], [block('a', '10.0.1.3', 'u1', 'ns/p1'), block('gone', '10.0.2.3', 'u2', 'ns/p2')]);
    expect(problems.map((p) => p.pool).sort()).toEqual(['a', 'gone']);
    const h = state.forAttachment('u1', 'eth0')[0]!;
    state.remove(h);
    expect(state.forPod('ns', 'p1')).toEqual([]);
  });

  it('resizes on a spec change without dropping a held address', () => {
    const { state } = PoolState.rebuild([pool('a', ['10.0.1.1-10.0.1.5'])], [], [block('a', '10.0.1.3', 'u1', 'ns/p1')]);
    expect(state.upsertPool(pool('a', ['10.0.1.1-10.0.1.9']), [])).toBeUndefined();
    expect(state.counts('a')).toEqual({ allocated: 1, total: 9n, free: 8n });
    expect(state.upsertPool(pool('a', ['10.0.1.4-10.0.1.9']), [])).toMatch(/cannot remove 1 allocated IP\(s\) from the pool: 10.0.1.3/);
    expect(state.pool('a')!.allocator.isAllocated('10.0.1.3')).toBe(true);
  });
});
