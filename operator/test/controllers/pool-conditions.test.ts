// Ready / Exhausted conditions on pools and subnets: what each state calls for, observedGeneration,
// lastTransitionTime kept across message-only changes, other writers' conditions kept, no-op merges.
import { CONDITION_EXHAUSTED, CONDITION_READY, conditionOf, conditionsCurrent, mergeConditions, poolConditionFacts, subnetConditionFacts, wantedConditions } from '../../src/controllers/pool-conditions.js';
import { derivePoolStatus } from '../../src/controllers/ippool-status.js';
import { blocks, pool } from './fixtures.js';

const t0 = new Date('2026-11-21T10:00:00Z');
const t1 = new Date('2026-11-21T11:00:00Z');

describe('wantedConditions', () => {
  it('a full pool is Exhausted=True with the counts and the fix, Ready=True, both at the pool generation', () => {
    const p = pool('p1', { subnet: '10.6.0.0/24', ips: ['10.6.0.10-10.6.0.12'] });
    p.metadata.generation = 7;
    const d = derivePoolStatus(p, blocks('p1', [{ ip: '10.6.0.10', pod: 'ns/a', uid: 'a' }, { ip: '10.6.0.11', pod: 'ns/b', uid: 'b' }, { ip: '10.6.0.12', pod: 'ns/c', uid: 'c' }]), []);
    const [ready, exhausted] = wantedConditions(poolConditionFacts(p, d));
    expect(ready).toEqual({ type: CONDITION_READY, status: 'True', reason: 'Allocatable', message: 'pool p1 serves allocations', observedGeneration: 7 });
    expect(exhausted).toEqual({ type: CONDITION_EXHAUSTED, status: 'True', reason: 'NoFreeIP', message: 'pool p1 has no free IP (3/3 allocated); add IPs to spec.ips or scale down', observedGeneration: 7 });
  });

  it('a pool with room is Exhausted=False with free of total', () => {
    const p = pool('p1', { subnet: '10.6.0.0/24', ips: ['10.6.0.10-10.6.0.19'] });
    const [, exhausted] = wantedConditions(poolConditionFacts(p, derivePoolStatus(p, blocks('p1', [{ ip: '10.6.0.10', pod: 'ns/a', uid: 'a' }]), [])));
    expect(exhausted).toMatchObject({ status: 'False', reason: 'FreeIPsAvailable', message: '9 of 10 addresses free' });
  });

  it('an invalid spec: Ready=False InvalidSpec naming the problem, Exhausted Unknown', () => {
    const p = pool('p1', { subnet: '10.6.0.0/24', ips: ['10.7.0.1'] });
    const d = derivePoolStatus(p, [], []);
    expect(d.specError).toBeDefined();
    const [ready, exhausted] = wantedConditions(poolConditionFacts(p, d));
    expect(ready).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(ready!.message).toContain(d.specError!);
    expect(exhausted).toMatchObject({ status: 'Unknown', reason: 'InvalidSpec' });
  });

  it('disabled and terminating pools are not Ready, with the reason', () => {
    const p = pool('p1', { subnet: '10.6.0.0/24', ips: ['10.6.0.10'], disable: true });
    const d = derivePoolStatus(p, [], []);
    expect(wantedConditions(poolConditionFacts(p, d))[0]).toMatchObject({ status: 'False', reason: 'Disabled' });
    p.metadata.deletionTimestamp = t0.toISOString();
    expect(wantedConditions(poolConditionFacts(p, d))[0]).toMatchObject({ status: 'False', reason: 'Terminating' });
  });

  it('a subnet with nothing left to carve is Exhausted=True', () => {
    const f = subnetConditionFacts({ metadata: { name: 's1', generation: 2 } }, { totalIPCount: 10, freeIPCount: 0 });
    expect(wantedConditions(f)[1]).toMatchObject({ status: 'True', reason: 'NoFreeIP', observedGeneration: 2, message: 'subnet s1 has no address left for auto pools (10/10 in pools); add IPs to spec.ips or remove workloads' });
    expect(wantedConditions(f)[0]).toMatchObject({ status: 'True', reason: 'Carvable' });
  });
});

describe('mergeConditions', () => {
  const facts = (free: number, generation = 1) => subnetConditionFacts({ metadata: { name: 's', generation } }, { totalIPCount: 10, freeIPCount: free });

  it('first write stamps now; the same verdict again is a no-op', () => {
    const first = mergeConditions(undefined, wantedConditions(facts(3)), t0)!;
    expect(first.map((c) => c.lastTransitionTime)).toEqual(['2026-11-21T10:00:00Z', '2026-11-21T10:00:00Z']);
    expect(mergeConditions(first, wantedConditions(facts(3)), t1)).toBeUndefined();
    expect(conditionsCurrent(first, facts(3))).toBe(true);
  });

  it('a new message with the same status keeps lastTransitionTime; a status flip takes the new time', () => {
    const first = mergeConditions(undefined, wantedConditions(facts(3)), t0)!;
    const fewer = mergeConditions(first, wantedConditions(facts(2)), t1)!;
    expect(conditionOf(fewer, CONDITION_EXHAUSTED)).toMatchObject({ status: 'False', message: '2 of 10 addresses free', lastTransitionTime: '2026-11-21T10:00:00Z' });
    const full = mergeConditions(fewer, wantedConditions(facts(0)), t1)!;
    expect(conditionOf(full, CONDITION_EXHAUSTED)).toMatchObject({ status: 'True', lastTransitionTime: '2026-11-21T11:00:00Z' });
    expect(conditionOf(full, CONDITION_READY)!.lastTransitionTime).toBe('2026-11-21T10:00:00Z');
  });

  it('a new generation is written even when nothing else changed', () => {
    const first = mergeConditions(undefined, wantedConditions(facts(3, 1)), t0)!;
    const next = mergeConditions(first, wantedConditions(facts(3, 2)), t1)!;
    expect(next.every((c) => c.observedGeneration === 2)).toBe(true);
    expect(conditionsCurrent(first, facts(3, 2))).toBe(false);
  });

  it("keeps conditions of other types (another writer's)", () => {
    const other = { type: 'Audited', status: 'True', reason: 'X', message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z' };
    const out = mergeConditions([other], wantedConditions(facts(3)), t0)!;
    expect(out.map((c) => c.type)).toEqual([CONDITION_READY, CONDITION_EXHAUSTED, 'Audited']);
  });
});
