import { comparePoolPriority, isCompleteAllocation, missingFamilies, selectPoolCandidates, sortByPoolPriority } from '../../../src/core/selection/index.js';
import { input, pool, v6, withAnno } from './fixtures.js';

describe('wildcard expansion', () => {
  const pools = [pool('team-a-2'), pool('team-a-1', { nodeName: ['node-1'] }), pool('team-b-1'), v6('team-a-v6'), pool('explicit')];

  it('expands in the glob’s place, only pools of the family, specific pools first then by name', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippool': '{"ipv4":["explicit","team-a-*"]}' }, { pools }));
    expect(r.ok && r.value.v4.map((c) => [c.name, c.viaPattern])).toEqual([
      ['explicit', undefined],
      ['team-a-1', 'team-a-*'],
      ['team-a-2', 'team-a-*'],
    ]);
  });
  it('a pool named explicitly and matched by a glob is tried once, at its first place', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippool': '{"ipv4":["team-a-2","team-*"]}' }, { pools }));
    expect(r.ok && r.value.v4.map((c) => c.name)).toEqual(['team-a-2', 'team-a-1', 'team-b-1']);
  });
  it('works in namespace defaults and CNI defaults too', () => {
    const ns = selectPoolCandidates(input({ pools, namespaceAnnotations: { 'ipam.spidernet.io/default-ipv4-ippool': '["team-b-?"]' } }));
    expect(ns.ok && ns.value.v4.map((c) => c.name)).toEqual(['team-b-1']);
    const cni = selectPoolCandidates(input({ pools, cniDefaults: { ipv6: ['team-a-*'] } }));
    expect(cni.ok && cni.value.v6.map((c) => c.name)).toEqual(['team-a-v6']);
  });
  it('a glob that matches nothing is recorded; if nothing else is left the family is exhausted', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippool': '{"ipv4":["zzz-*"]}' }, { pools }));
    expect(r.ok).toBe(false);
    if (r.ok || r.error.kind !== 'family-exhausted') throw new Error('expected family-exhausted');
    expect(r.error.rejections).toEqual([{ pool: 'zzz-*', family: 4, reason: 'pattern-matched-nothing', detail: 'no IPv4 pool name matches the pattern' }]);
  });
  it('matched pools still go through the filters', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippool': '{"ipv4":["team-a-*"]}' }, { pools, pod: { ...input().pod, nodeName: 'node-2' } }));
    expect(r.ok && r.value.v4.map((c) => c.name)).toEqual(['team-a-2']);
    expect(r.ok && r.value.rejections.map((x) => x.reason)).toEqual(['node-name-mismatch']);
  });
  it('a malformed glob is an error', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippool': '{"ipv4":["team-[-a]"]}' }, { pools }));
    expect(!r.ok && r.error.kind).toBe('invalid-pattern');
  });
});

describe('priority sort (ByPoolPriority)', () => {
  it('podAffinity > nodeName > nodeAffinity > namespaceName > namespaceAffinity > multusName > generic, ties by name', () => {
    const sel = { matchLabels: { a: 'b' } };
    const list = [
      pool('generic-b'),
      pool('multus', { multusName: ['m'] }),
      pool('ns-aff', { namespaceAffinity: sel }),
      pool('ns-name', { namespaceName: ['ns'] }),
      pool('node-aff', { nodeAffinity: sel }),
      pool('node-name', { nodeName: ['n'] }),
      pool('pod-aff', { podAffinity: sel }),
      pool('generic-a'),
    ];
    expect(sortByPoolPriority(list).map((p) => p.metadata.name)).toEqual([
      'pod-aff', 'node-name', 'node-aff', 'ns-name', 'ns-aff', 'multus', 'generic-a', 'generic-b',
    ]);
  });
  it('earlier criteria dominate later ones', () => {
    const a = pool('a', { podAffinity: {} });
    const b = pool('b', { nodeName: ['n'], namespaceName: ['x'], multusName: ['m'] });
    expect(comparePoolPriority(a, b)).toBeLessThan(0);
    expect(comparePoolPriority(b, a)).toBeGreaterThan(0);
    expect(comparePoolPriority(pool('x'), pool('x'))).toBe(0);
  });
  it('spec.default pools are ordered by specificity, per family', () => {
    const pools = [pool('d-generic', { default: true }), pool('d-node', { default: true, nodeName: ['node-1'] }), v6('d6', { default: true }), pool('not-default')];
    const r = selectPoolCandidates(input({ pools }));
    expect(r.ok && r.value.v4.map((c) => c.name)).toEqual(['d-node', 'd-generic']);
    expect(r.ok && r.value.v6.map((c) => c.name)).toEqual(['d6']);
  });
});

describe('dual stack: both families or neither', () => {
  const pools = [pool('a4'), v6('a6'), v6('bad6', { disable: true })];

  it('both families with candidates → ok, both requested', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippool': '{"ipv4":["a4"],"ipv6":["a6"]}' }, { pools }));
    expect(r.ok && r.value.requested).toEqual({ v4: true, v6: true });
  });
  it('v6 requested but every v6 pool filtered out → error, even though v4 is fine', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippool': '{"ipv4":["a4"],"ipv6":["bad6","nope6"]}' }, { pools }));
    expect(r.ok).toBe(false);
    if (r.ok || r.error.kind !== 'family-exhausted') throw new Error('expected family-exhausted');
    expect(r.error.families).toEqual([6]);
    expect(r.error.rejections.map((x) => x.reason)).toEqual(['disabled', 'not-found']);
    expect(r.error.message).toContain('no usable IPv6 pool for pod ns/pod-0 interface eth0 (from pod-ippool-annotation): bad6: disabled');
  });
  it('both families exhausted are both reported', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippool': '{"ipv4":["x"],"ipv6":["y"]}' }, { pools }));
    expect(!r.ok && r.error.kind === 'family-exhausted' && r.error.families).toEqual([4, 6]);
  });
  it('a family the pod does not name is not requested (IPv4-only pod in a dual-stack cluster)', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippool': '{"ipv4":["a4"]}' }, { pools }));
    expect(r.ok && r.value.requested).toEqual({ v4: true, v6: false });
  });
  it('a family the cluster disabled is dropped with a note, not requested', () => {
    const r = selectPoolCandidates(
      withAnno({ 'ipam.spidernet.io/ippool': '{"ipv4":["a4"],"ipv6":["a6"]}' }, { pools, config: { enableIPv4: true, enableIPv6: false, multusNamespace: 'spiderpool' } }),
    );
    expect(r.ok && r.value.requested).toEqual({ v4: true, v6: false });
    expect(r.ok && r.value.v6).toEqual([]);
    expect(r.ok && r.value.rejections).toEqual([{ pool: 'a6', family: 6, reason: 'family-disabled', detail: 'IPv6 is disabled in this cluster' }]);
  });
  it('only disabled families named → error', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippool': '{"ipv6":["a6"]}' }, { pools, config: { enableIPv4: true, enableIPv6: false, multusNamespace: 'spiderpool' } }));
    expect(!r.ok && r.error.kind).toBe('no-pool-rule');
  });
  it('missingFamilies / isCompleteAllocation decide the allocator’s final all-or-nothing', () => {
    const both = { v4: true, v6: true };
    expect(missingFamilies(both, { v4: true, v6: false })).toEqual([6]);
    expect(missingFamilies(both, { v4: false, v6: false })).toEqual([4, 6]);
    expect(missingFamilies({ v4: true, v6: false }, { v4: true, v6: false })).toEqual([]);
    expect(isCompleteAllocation(both, [4])).toBe(false);
    expect(isCompleteAllocation(both, [6, 4])).toBe(true);
    expect(isCompleteAllocation({ v4: false, v6: true }, [6])).toBe(true);
  });
});
