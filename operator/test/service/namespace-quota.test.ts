// Per-namespace IP quota: counts what the namespace's pods hold per SpiderSubnet (by owner reference,
// owner label or equal spec.subnet) and in all ("*"), skips candidate pools at their limit, refuses
// with RESOURCE_EXHAUSTED naming the quota when none is left, counts in-flight allocations, and costs
// nothing without the annotation.
import type { V1Namespace } from '@kubernetes/client-node';
import type { SpiderIPPool, SpiderSubnet } from '../../src/api/v2beta1/types.js';
import type { Candidate } from '../../src/core/selection/index.js';
import { ErrorReason, GrpcCode } from '../../src/rpc/errors.js';
import { applyBatch } from '../../src/service/block-committer.js';
import { slotOf } from '../../src/service/block-layout.js';
import { ANNO_NS_IP_QUOTA, NamespaceQuota, type QuotaExceeded, parseQuota, poolSubnet } from '../../src/service/namespace-quota.js';
import { PoolState } from '../../src/service/pool-state.js';

const pool = (name: string, subnet: string, ips: string[], labels: Record<string, string> = {}): SpiderIPPool => ({
  apiVersion: 'spiderpool.spidernet.io/v2beta1',
  kind: 'SpiderIPPool',
  metadata: { name, uid: `uid-${name}`, labels },
  spec: { subnet, ips },
});
const subnet = (name: string, cidr: string): SpiderSubnet => ({ apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderSubnet', metadata: { name }, spec: { subnet: cidr, ips: [] } });
const block = (p: string, ip: string, uid: string, pod: string) => {
  const s = slotOf(p, 4, ip);
  return applyBatch(null, s.block, undefined, [{ op: 'allocate', offset: s.offset, entry: { uid, pod, nic: 'eth0', cid: 'c', node: 'n1' } }]).next;
};
const cand = (p: SpiderIPPool): Candidate => ({ name: p.metadata.name!, pool: p });

const a1 = pool('a1', '10.0.0.0/24', ['10.0.0.1-10.0.0.20']);
const a2 = pool('a2', '10.0.0.0/24', ['10.0.0.21-10.0.0.40'], { 'ipam.spidernet.io/owner-spider-subnet': 'subnet-a' });
const b1 = pool('b1', '10.0.1.0/24', ['10.0.1.1-10.0.1.20']);
const subnets = [subnet('subnet-a', '10.0.0.0/24'), subnet('subnet-b', '10.0.1.0/24')];
const pod = { namespace: 'team', name: 'web-9', uid: 'u9' };

function quotaFor(annotation: string | undefined, exceeded: QuotaExceeded[] = []) {
  const ns: V1Namespace = { metadata: { name: 'team', ...(annotation !== undefined ? { annotations: { [ANNO_NS_IP_QUOTA]: annotation } } : {}) } };
  return new NamespaceQuota({ namespace: (n) => (n === 'team' ? ns : undefined), subnets: () => subnets, onExceeded: (e) => exceeded.push(e) });
}

const { state } = PoolState.rebuild(
  [a1, a2, b1],
  [],
  [block('a1', '10.0.0.1', 'u1', 'team/web-1'), block('a2', '10.0.0.21', 'u2', 'team/web-2'), block('b1', '10.0.1.1', 'u3', 'team/web-3'), block('a1', '10.0.0.2', 'u4', 'other/x')],
);

describe('parseQuota', () => {
  it('reads subnet limits and refuses malformed values with the expected form', () => {
    expect(parseQuota('{"subnet-a": 2, "*": 10}')).toEqual(new Map([['subnet-a', 2], ['*', 10]]));
    expect(parseQuota('{"subnet-a": -1}')).toMatch(/"subnet-a": -1 is not a whole number/);
    expect(parseQuota('[1]')).toMatch(/expected a JSON object/);
    expect(parseQuota('{')).toMatch(/not JSON/);
  });
});

describe('poolSubnet', () => {
  it('by owner label, owner reference, or equal spec.subnet', () => {
    expect(poolSubnet(a2, subnets)).toBe('subnet-a');
    expect(poolSubnet(a1, subnets)).toBe('subnet-a');
    expect(poolSubnet(b1, subnets)).toBe('subnet-b');
    const owned = { ...b1, metadata: { ...b1.metadata, ownerReferences: [{ apiVersion: 'v', kind: 'SpiderSubnet', name: 'subnet-x', uid: 'x', controller: true }] } };
    expect(poolSubnet(owned, subnets)).toBe('subnet-x');
  });
});

describe('NamespaceQuota', () => {
  it('passes every candidate when the namespace has no quota', () => {
    const r = quotaFor(undefined).reserve(pod, [cand(a1), cand(b1)], state);
    expect(r.candidates.map((c) => c.name)).toEqual(['a1', 'b1']);
  });

  it('skips pools of a subnet at its limit and keeps the others', () => {
    // team holds 2 in subnet-a (a1 + a2), 1 in subnet-b; other/x does not count.
    const r = quotaFor('{"subnet-a": 2}').reserve(pod, [cand(a1), cand(b1)], state);
    expect(r.candidates.map((c) => c.name)).toEqual(['b1']);
  });

  it('refuses with RESOURCE_EXHAUSTED naming the quota when no candidate is left, and reports it', () => {
    const exceeded: QuotaExceeded[] = [];
    let err: unknown;
    try {
      quotaFor('{"subnet-a": 2}', exceeded).reserve(pod, [cand(a1), cand(a2)], state);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: GrpcCode.RESOURCE_EXHAUSTED, reason: ErrorReason.QuotaExceeded });
    expect((err as Error).message).toBe(`namespace team holds 2 of its quota of 2 IPs from SpiderSubnet subnet-a (Namespace annotation ${ANNO_NS_IP_QUOTA}); release addresses or raise the quota`);
    expect(exceeded).toHaveLength(1);
    expect(exceeded[0]).toMatchObject({ subnet: 'subnet-a', limit: 2, held: 2, pod });
  });

  it('"*" counts all pools together', () => {
    expect(() => quotaFor('{"*": 3}').reserve(pod, [cand(b1)], state)).toThrow(/holds 3 of its quota of 3 IPs from all pools/);
    expect(quotaFor('{"*": 4}').reserve(pod, [cand(b1)], state).candidates).toHaveLength(1);
  });

  it('counts in-flight reservations until they are released', () => {
    const q = quotaFor('{"subnet-b": 2}');
    const first = q.reserve(pod, [cand(b1)], state);
    expect(() => q.reserve({ ...pod, name: 'web-10', uid: 'u10' }, [cand(b1)], state)).toThrow(/holds 1 of its quota of 2/);
    first.release();
    first.release();
    expect(q.reserve({ ...pod, name: 'web-10', uid: 'u10' }, [cand(b1)], state).candidates).toHaveLength(1);
  });

  it('refuses with a message naming the annotation when it is malformed', () => {
    expect(() => quotaFor('{"subnet-a": "lots"}').reserve(pod, [cand(a1)], state)).toThrow(/ipam.spiderpool-ts.io\/ip-quota: "subnet-a": "lots" is not a whole number/);
  });
});
