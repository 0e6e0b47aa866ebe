// The GC scan's resync of the leader's memory against a fresh list of the blocks (operator/src/gc/resync.ts).
import type { SpiderIPPool } from '../../src/api/v2beta1/types.js';
import { resyncState } from '../../src/gc/resync.js';
import { applyBatch } from '../../src/service/block-committer.js';
import { slotOf } from '../../src/service/block-layout.js';
import { PoolState } from '../../src/service/pool-state.js';

const pool: SpiderIPPool = { apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderIPPool', metadata: { name: 'a', uid: 'uid-a' }, spec: { subnet: '10.0.0.0/16', ips: ['10.0.1.1-10.0.1.2'] } };
const OLD = '2026-11-21T19:00:00Z';
const LISTED = Date.parse('2026-11-21T20:00:00Z');
const block = (entries: { ip: string; uid: string; pod: string; at?: string }[]) => {
  const ref = slotOf('a', 4, '10.0.1.1').block;
  return applyBatch(
    null,
    ref,
    undefined,
    entries.map((e) => ({ op: 'allocate' as const, offset: slotOf('a', 4, e.ip).offset, entry: { uid: e.uid, pod: e.pod, nic: 'eth0', at: e.at ?? OLD } })),
  ).next;
};

describe('resyncState', () => {
  it('forgets a record gone from its block and frees its address', () => {
    const both = block([{ ip: '10.0.1.1', uid: 'u1', pod: 'ns/p1' }, { ip: '10.0.1.2', uid: 'u2', pod: 'ns/p2' }]);
    const { state } = PoolState.rebuild([pool], [], [both]);
    expect(state.pool('a')!.allocator.allocate()).toBeUndefined();
    // released outside the leader: the same block without 10.0.1.1's entry
    const listed = structuredClone(both);
    delete listed.spec.allocations[String(slotOf('a', 4, '10.0.1.1').offset)];
    const r = resyncState(state, [listed], LISTED, 60_000);
    expect(r.forgotten.map((h) => h.ip)).toEqual(['10.0.1.1']);
    expect(r.learned).toEqual([]);
    expect(state.get('a', '10.0.1.1')).toBeUndefined();
    expect(state.pool('a')!.allocator.allocate()).toBe('10.0.1.1');
  });

  it('learns a record found only in the blocks, and replaces one that changed hands', () => {
    const { state } = PoolState.rebuild([pool], [], [block([{ ip: '10.0.1.1', uid: 'u1', pod: 'ns/p1' }])]);
    const r = resyncState(state, [block([{ ip: '10.0.1.1', uid: 'u9', pod: 'ns/p9' }, { ip: '10.0.1.2', uid: 'u2', pod: 'ns/p2' }])], LISTED, 60_000);
    expect(r.forgotten.map((h) => h.entry.uid)).toEqual(['u1']);
    expect(r.learned.map((h) => h.entry.uid).sort()).toEqual(['u2', 'u9']);
    expect(state.get('a', '10.0.1.1')?.entry.uid).toBe('u9');
    expect(state.forPod('ns', 'p2')).toHaveLength(1);
    expect(state.pool('a')!.allocator.allocate()).toBeUndefined();
  });

  it('leaves records younger than the margin alone: the list may predate our own writes', () => {
    const recent = new Date(LISTED - 10_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const { state } = PoolState.rebuild([pool], [], [block([{ ip: '10.0.1.1', uid: 'u1', pod: 'ns/p1', at: recent }])]);
    const r = resyncState(state, [], LISTED, 60_000);
    expect(r.forgotten).toEqual([]);
    expect(state.get('a', '10.0.1.1')?.entry.uid).toBe('u1');
  });
});
