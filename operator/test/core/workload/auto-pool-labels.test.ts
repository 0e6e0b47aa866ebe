import {
  applicationLabelGV,
  autoPoolAnnotations,
  autoPoolLabels,
  autoPoolOwnerLabels,
  autoPoolPodAffinity,
  cidrToLabelValue,
  isAutoCreatedPool,
  matchesAutoPoolAffinity,
  type Application,
} from '../../../src/core/workload/index.js';

const app: Application = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'team-a', name: 'web', uid: 'u-1' };

describe('auto pool labels', () => {
  it('writes the exact Spiderpool label set', () => {
    expect(autoPoolLabels({ subnetName: 'subnet-v4', app, ifName: 'eth0', ipVersion: 4, reclaim: true, subnetCIDR: '172.18.40.0/24' })).toEqual({
      'ipam.spidernet.io/owner-spider-subnet': 'subnet-v4',
      'ipam.spidernet.io/owner-application-gv': 'apps_v1',
      'ipam.spidernet.io/owner-application-kind': 'Deployment',
      'ipam.spidernet.io/owner-application-namespace': 'team-a',
      'ipam.spidernet.io/owner-application-name': 'web',
      'ipam.spidernet.io/owner-application-uid': 'u-1',
      'ipam.spidernet.io/interface': 'eth0',
      'ipam.spidernet.io/ip-version': 'IPv4',
      'ipam.spidernet.io/ippool-reclaim': 'true',
      'ipam.spidernet.io/ippool-cidr': '172-18-40-0-24',
    });
    expect(autoPoolOwnerLabels({ subnetName: 's6', app, ifName: 'net1', ipVersion: 6 })['ipam.spidernet.io/ip-version']).toBe('IPv6');
    expect(
      autoPoolLabels({ subnetName: 's', app, ifName: 'eth0', ipVersion: 6, reclaim: false, subnetCIDR: 'fd00::/64' })['ipam.spidernet.io/ippool-reclaim'],
    ).toBe('false');
  });

  it('encodes group/version and CIDRs for label values', () => {
    expect(applicationLabelGV('apps/v1')).toBe('apps_v1');
    expect(applicationLabelGV('v1')).toBe('v1');
    expect(applicationLabelGV('kruise.io/v1beta1')).toBe('kruise.io_v1beta1');
    expect(cidrToLabelValue('172.18.40.0/24')).toBe('172-18-40-0-24');
    expect(cidrToLabelValue('fd00:1::/64')).toBe('fd00-1---64');
  });

  it('records the size request as the ippool-ip-number annotation', () => {
    expect(autoPoolAnnotations({ kind: 'flexible', extra: 1 })).toEqual({ 'ipam.spidernet.io/ippool-ip-number': '+1' });
    expect(autoPoolAnnotations({ kind: 'fixed', count: 3 })).toEqual({ 'ipam.spidernet.io/ippool-ip-number': '3' });
  });

  it('pod affinity names the application by group, version, kind, namespace and name', () => {
    expect(autoPoolPodAffinity(app)).toEqual({
      matchLabels: {
        'ipam.spidernet.io/app-api-group': 'apps',
        'ipam.spidernet.io/app-api-version': 'v1',
        'ipam.spidernet.io/app-kind': 'Deployment',
        'ipam.spidernet.io/app-namespace': 'team-a',
        'ipam.spidernet.io/app-name': 'web',
      },
    });
    expect(autoPoolPodAffinity({ apiVersion: 'v1', kind: 'Pod', namespace: 'n', name: 'p' }).matchLabels?.['ipam.spidernet.io/app-api-group']).toBe('');
  });

  it('matches an auto pool only to its own application', () => {
    const aff = autoPoolPodAffinity(app);
    expect(matchesAutoPoolAffinity(aff, app)).toBe(true);
    expect(matchesAutoPoolAffinity(aff, { ...app, name: 'other' })).toBe(false);
    expect(matchesAutoPoolAffinity(aff, { ...app, kind: 'StatefulSet' })).toBe(false);
    expect(matchesAutoPoolAffinity(aff, { ...app, namespace: 'team-b' })).toBe(false);
    expect(matchesAutoPoolAffinity(aff, { ...app, apiVersion: 'apps/v2' })).toBe(false);
    expect(matchesAutoPoolAffinity(undefined, app)).toBe(false);
    // A missing app-api-group key equals "" as in Go's map lookup: core/v1 pods match.
    const pod = { apiVersion: 'v1', kind: 'Pod', namespace: 'n', name: 'p' };
    const { ['ipam.spidernet.io/app-api-group']: _g, ...rest } = autoPoolPodAffinity(pod).matchLabels ?? {};
    expect(matchesAutoPoolAffinity({ matchLabels: rest }, pod)).toBe(true);
  });

  it('recognises auto pools by the owner-application-name label', () => {
    expect(isAutoCreatedPool({ metadata: { labels: { 'ipam.spidernet.io/owner-application-name': 'web' } } })).toBe(true);
    expect(isAutoCreatedPool({ metadata: { labels: { other: 'x' } } })).toBe(false);
    expect(isAutoCreatedPool({ metadata: {} })).toBe(false);
  });
});
