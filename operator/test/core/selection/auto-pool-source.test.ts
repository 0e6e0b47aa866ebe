import { selectPoolCandidates } from '../../../src/core/selection/index.js';
import { autoPoolName, autoPoolOwnerLabels, autoPoolPodAffinity, type Application } from '../../../src/core/workload/index.js';
import { input, pool, v6, withAnno } from './fixtures.js';

const app: Application = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: 'web', uid: 'aaaa-bbbbbbbb' };
const auto = (subnetName: string, ipVersion: 4 | 6, ifName = 'eth0', owner: Application = app) => {
  const mk = ipVersion === 4 ? pool : v6;
  return mk(
    autoPoolName(owner.name, ipVersion, ifName, owner.uid),
    { podAffinity: autoPoolPodAffinity(owner) },
    { labels: autoPoolOwnerLabels({ subnetName, app: owner, ifName, ipVersion }) },
  );
};
const config = { enableIPv4: true, enableIPv6: true, enableAutoPool: true, multusNamespace: 'spiderpool' };

describe('ipam.spidernet.io/subnet(s): the application’s auto pools come first', () => {
  const pools = [auto('s4', 4), auto('s6', 6), auto('s4', 4, 'net1'), auto('s4', 4, 'eth0', { ...app, name: 'other', uid: 'x-ccccc' }), pool('plain')];

  it('beats ippools/ippool annotations when the auto-pool feature is on', () => {
    const r = selectPoolCandidates(
      withAnno({ 'ipam.spidernet.io/subnet': '{"ipv4":["s4"],"ipv6":["s6"]}', 'ipam.spidernet.io/ippool': '{"ipv4":["plain"]}' }, { pools, podController: app, config }),
    );
    expect(r.ok && r.value.source).toBe('subnet-annotation');
    expect(r.ok && r.value.v4.map((c) => c.name)).toEqual(['auto4-web-eth0-bbbbb']);
    expect(r.ok && r.value.v6.map((c) => c.name)).toEqual(['auto6-web-eth0-bbbbb']);
  });
  it('is ignored when the feature is off', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/subnet': '{"ipv4":["s4"]}', 'ipam.spidernet.io/ippool': '{"ipv4":["plain"]}' }, { pools, podController: app }));
    expect(r.ok && r.value.source).toBe('pod-ippool-annotation');
  });
  it('subnets picks this interface’s item and auto pool', () => {
    const anno = JSON.stringify([{ interface: 'eth0', ipv6: ['s6'] }, { interface: 'net1', ipv4: ['s4'] }]);
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/subnets': anno }, { pools, podController: app, config, nic: 'net1' }));
    expect(r.ok && r.value.v4.map((c) => c.name)).toEqual(['auto4-web-net1-bbbbb']);
    const missing = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/subnets': anno }, { pools, podController: app, config, nic: 'net2' }));
    expect(!missing.ok && missing.error.kind).toBe('interface-not-in-annotation');
  });
  it('an auto pool not created yet is "try again later", not a hard failure', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/subnet': '{"ipv4":["s4"]}' }, { pools, podController: { ...app, uid: 'new-uid' }, config }));
    expect(!r.ok && r.error.kind).toBe('auto-pool-unavailable');
    expect(!r.ok && r.error.message).toContain('does not exist yet; try again later');
  });
  it('a bare pod cannot use subnets', () => {
    const bare = { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'pod-0', uid: 'p' };
    for (const podController of [bare, undefined]) {
      const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/subnet': '{"ipv4":["s4"]}' }, { pools, podController, config }));
      expect(!r.ok && r.error.kind).toBe('auto-pool-unavailable');
    }
  });
  it('two auto pools for one application, interface and family is an error', () => {
    const dup = { ...auto('s4', 4), metadata: { ...auto('s4', 4).metadata, name: 'dup' } };
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/subnet': '{"ipv4":["s4"]}' }, { pools: [...pools, dup], podController: app, config }));
    expect(!r.ok && r.error.message).toContain('owns several IPv4 auto pools');
  });
  it('a malformed subnet annotation is reported', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/subnet': '{"ipv4":[""]}' }, { pools, podController: app, config }));
    expect(!r.ok && r.error.kind).toBe('invalid-annotation');
  });
  it('another application naming an auto pool explicitly is filtered by owner', () => {
    const r = selectPoolCandidates(
      withAnno({ 'ipam.spidernet.io/ippool': '{"ipv4":["auto4-web-eth0-bbbbb","plain"]}' }, { pools, podController: { ...app, name: 'intruder' } }),
    );
    expect(r.ok && r.value.v4.map((c) => c.name)).toEqual(['plain']);
    expect(r.ok && r.value.rejections[0]?.reason).toBe('auto-pool-owner-mismatch');
  });
  it('input pools are not mutated', () => {
    const before = JSON.stringify(pools);
    selectPoolCandidates(input({ pools, podController: app, config }));
    expect(JSON.stringify(pools)).toBe(before);
  });
});
