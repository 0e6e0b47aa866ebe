import { decideReuse, type AllocationRecord } from '../../../src/core/workload/index.js';

function rec(over: Partial<AllocationRecord>): AllocationRecord {
  return { ip: '10.0.0.1', pool: 'p4', family: 4, nic: 'eth0', namespace: 'ns', podName: 'web-0', podUID: 'uid-old', ...over };
}

describe('same pod UID and interface', () => {
  it('gets the same IPs back, whatever the container ID', () => {
    const records = [rec({ podUID: 'u1', containerID: 'c-old' }), rec({ podUID: 'u1', ip: 'fd00::1', family: 6, pool: 'p6' })];
    const d = decideReuse(records, { namespace: 'ns', podName: 'web-0', podUID: 'u1', nic: 'eth0' });
    expect(d.matchedBy).toBe('pod-uid');
    expect(d.reuse.map((r) => r.ip)).toEqual(['10.0.0.1', 'fd00::1']);
    expect(d.missingFamilies).toEqual([]);
    expect(d.stale).toEqual([]);
  });

  it('is per interface: net1 does not get eth0’s IP', () => {
    const d = decideReuse([rec({ podUID: 'u1' })], { namespace: 'ns', podName: 'web-0', podUID: 'u1', nic: 'net1' });
    expect(d.matchedBy).toBe('none');
    expect(d.reuse).toEqual([]);
    expect(d.missingFamilies).toEqual([4, 6]);
  });

  it('reports the family still to allocate', () => {
    const d = decideReuse([rec({ podUID: 'u1' })], { namespace: 'ns', podName: 'web-0', podUID: 'u1', nic: 'eth0' });
    expect(d.missingFamilies).toEqual([6]);
  });

  it('ignores other pods entirely', () => {
    const d = decideReuse([rec({ podName: 'other', podUID: 'u1' }), rec({ namespace: 'ns2', podUID: 'u1' })], {
      namespace: 'ns',
      podName: 'web-0',
      podUID: 'u1',
      nic: 'eth0',
    });
    expect(d).toEqual({ reuse: [], matchedBy: 'none', missingFamilies: [4, 6], stale: [] });
  });

  it('keeps one record per family and flags a second one as a leak', () => {
    const d = decideReuse([rec({ podUID: 'u1' }), rec({ podUID: 'u1', ip: '10.0.0.2' })], { namespace: 'ns', podName: 'web-0', podUID: 'u1', nic: 'eth0' });
    expect(d.reuse.map((r) => r.ip)).toEqual(['10.0.0.1']);
    expect(d.stale).toEqual([{ record: expect.objectContaining({ ip: '10.0.0.2' }), reason: 'duplicate-in-family' }]);
  });
});

describe('same-name recreation', () => {
  const old = [
    rec({ podUID: 'uid-old', ownerKind: 'StatefulSet', ownerName: 'web' }),
    rec({ podUID: 'uid-old', ownerKind: 'StatefulSet', ownerName: 'web', ip: 'fd00::5', family: 6, pool: 'p6' }),
  ];

  it('a StatefulSet pod with a new UID gets its predecessor’s IPs (keyed by namespace/name = ordinal)', () => {
    const d = decideReuse(old, { namespace: 'ns', podName: 'web-0', podUID: 'uid-new', nic: 'eth0', ownerKind: 'StatefulSet', ownerName: 'web' });
    expect(d.matchedBy).toBe('statefulset-identity');
    expect(d.reuse.map((r) => r.ip)).toEqual(['10.0.0.1', 'fd00::5']);
    expect(d.stale).toEqual([]);
  });

  it('another ordinal of the same StatefulSet does not get them', () => {
    const d = decideReuse(old, { namespace: 'ns', podName: 'web-1', podUID: 'uid-new', nic: 'eth0', ownerKind: 'StatefulSet', ownerName: 'web' });
    expect(d.matchedBy).toBe('none');
    expect(d.stale).toEqual([]);
  });

  it('a Deployment/Job pod recreated with the same name must NOT get the stale IP (Spiderpool #1187)', () => {
    const recs = [rec({ podUID: 'uid-old', ownerKind: 'Job', ownerName: 'train' })];
    for (const ownerKind of ['Job', 'ReplicaSet', 'Deployment', undefined]) {
      const d = decideReuse(recs, { namespace: 'ns', podName: 'web-0', podUID: 'uid-new', nic: 'eth0', ownerKind, ownerName: 'train' });
      expect(d.reuse).toEqual([]);
      expect(d.matchedBy).toBe('none');
      expect(d.stale).toEqual([{ record: recs[0], reason: 'same-name-other-uid' }]);
    }
  });

  it('a StatefulSet pod does not inherit a same-named pod of another owner', () => {
    const recs = [rec({ podUID: 'uid-old', ownerKind: 'Deployment', ownerName: 'web' }), rec({ podUID: 'uid-older', ownerKind: 'StatefulSet', ownerName: 'db', ip: '10.0.0.9' })];
    const d = decideReuse(recs, { namespace: 'ns', podName: 'web-0', podUID: 'uid-new', nic: 'eth0', ownerKind: 'StatefulSet', ownerName: 'web' });
    expect(d.reuse).toEqual([]);
    expect(d.stale.map((s) => s.reason)).toEqual(['same-name-other-uid', 'same-name-other-uid']);
  });

  it('with statefulSetKeepsIPs off a StatefulSet pod is treated like any other', () => {
    const d = decideReuse(old, {
      namespace: 'ns', podName: 'web-0', podUID: 'uid-new', nic: 'eth0', ownerKind: 'StatefulSet', ownerName: 'web', statefulSetKeepsIPs: false,
    });
    expect(d.reuse).toEqual([]);
    expect(d.stale).toHaveLength(2);
  });

  it('a matching UID wins over StatefulSet identity; older same-name records are stale', () => {
    const recs = [...old, rec({ podUID: 'uid-new', ownerKind: 'StatefulSet', ownerName: 'web', ip: '10.0.0.7' })];
    const d = decideReuse(recs, { namespace: 'ns', podName: 'web-0', podUID: 'uid-new', nic: 'eth0', ownerKind: 'StatefulSet', ownerName: 'web' });
    expect(d.matchedBy).toBe('pod-uid');
    expect(d.reuse.map((r) => r.ip)).toEqual(['10.0.0.7']);
    expect(d.stale.map((s) => s.record.ip)).toEqual(['10.0.0.1', 'fd00::5']);
  });

  it('a StatefulSet whose pools changed moves: records outside the candidates are stale (checkStsPoolChange)', () => {
    const d = decideReuse(old, {
      namespace: 'ns', podName: 'web-0', podUID: 'uid-new', nic: 'eth0', ownerKind: 'StatefulSet', ownerName: 'web',
      candidatePools: { 4: ['p4-new'], 6: ['p6'] },
    });
    expect(d.reuse.map((r) => r.ip)).toEqual(['fd00::5']);
    expect(d.missingFamilies).toEqual([4]);
    expect(d.stale).toEqual([{ record: old[0], reason: 'pool-no-longer-candidate' }]);
  });
});
