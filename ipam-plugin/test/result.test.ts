import { AllocateResponse } from '../../operator/src/rpc/gen/spiderpool_ts/ipam/v1/ipam.js';
import { formatResult, versionResult } from '../src/cni/result.js';
import { SUPPORTED_VERSIONS } from '../src/cni/version.js';

const dual = AllocateResponse.fromPartial({
  ips: [
    { version: 4, address: '172.18.40.10/24', gateway: '172.18.40.1', pool: 'v4', vlan: 40 },
    { version: 6, address: 'fd00:40::a/64', gateway: '', pool: 'v6', vlan: 40 },
  ],
  routes: [
    { dst: '0.0.0.0/0', gw: '172.18.40.1' },
    { dst: '10.20.0.0/16', gw: '' },
  ],
  dns: { nameservers: ['172.18.0.53'], domain: '', search: ['svc.cluster.local'], options: [] },
});

describe('formatResult', () => {
  it.each(['0.3.1', '0.4.0'] as const)('%s: ips carry "version", no interface index', (v) => {
    expect(formatResult(v, dual)).toEqual({
      cniVersion: v,
      ips: [
        { version: '4', address: '172.18.40.10/24', gateway: '172.18.40.1' },
        { version: '6', address: 'fd00:40::a/64' },
      ],
      routes: [{ dst: '0.0.0.0/0', gw: '172.18.40.1' }, { dst: '10.20.0.0/16' }],
      dns: { nameservers: ['172.18.0.53'], search: ['svc.cluster.local'] },
    });
  });

  it.each(['1.0.0', '1.1.0'] as const)('%s: ips without "version"', (v) => {
    expect(formatResult(v, dual)).toEqual({
      cniVersion: v,
      ips: [{ address: '172.18.40.10/24', gateway: '172.18.40.1' }, { address: 'fd00:40::a/64' }],
      routes: [{ dst: '0.0.0.0/0', gw: '172.18.40.1' }, { dst: '10.20.0.0/16' }],
      dns: { nameservers: ['172.18.0.53'], search: ['svc.cluster.local'] },
    });
  });

  it('leaves out empty routes and dns, as Go CNI types do', () => {
    const r = formatResult('1.0.0', AllocateResponse.fromPartial({ ips: [{ version: 4, address: '10.0.0.2/24' }], dns: {} }));
    expect(r).toEqual({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }] });
    expect(r.ips[0]).not.toHaveProperty('interface');
  });

  it('VERSION lists every supported version', () => {
    expect(versionResult('0.4.0', SUPPORTED_VERSIONS)).toEqual({ cniVersion: '0.4.0', supportedVersions: ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });
});
