import { allocatableSet } from '../../../src/core/allocator/index.js';
import { IPParseError } from '../../../src/core/ip/index.js';

describe('allocatableSet', () => {
  it('is ips minus excludeIPs, reserved IPs and the gateway', () => {
    const s = allocatableSet({
      subnet: '172.18.40.0/24',
      ips: ['172.18.40.1-172.18.40.20', '172.18.40.100/30'],
      excludeIPs: ['172.18.40.5-172.18.40.9', '172.18.40.101'],
      reserved: ['172.18.40.12', '10.9.9.9', '2001:db8::1', '172.18.41.0/24'],
      gateway: '172.18.40.1',
    });
    expect(s.toStrings()).toEqual([
      '172.18.40.2-172.18.40.4',
      '172.18.40.10-172.18.40.11',
      '172.18.40.13-172.18.40.20',
      '172.18.40.100',
      '172.18.40.102-172.18.40.103',
    ]);
  });

  it('IPv6 with the family taken from the subnet', () => {
    const s = allocatableSet({ subnet: 'fd00::/120', ips: ['fd00::10-fd00::1f'], excludeIPs: ['fd00::10/126'], gateway: null });
    expect(s.family).toBe(6);
    expect(s.toStrings()).toEqual(['fd00::14-fd00::1f']);
  });

  it.each([
    [{ ips: ['10.0.1.1'] }, 'invalid IPv4 address "10.0.1.1" in spec.ips[0]: it is outside spec.subnet 10.0.0.0/24; expected addresses inside 10.0.0.0/24'],
    [{ ips: ['10.0.0.1', '10.0.0.250-10.0.1.2'] }, 'invalid IPv4 range "10.0.0.250-10.0.1.2" in spec.ips[1]: it is outside spec.subnet 10.0.0.0/24'],
    [{ ips: ['10.0.0.0/23'] }, 'invalid IPv4 CIDR "10.0.0.0/23" in spec.ips[0]: it is outside spec.subnet'],
    [{ ips: ['10.0.0.1'], excludeIPs: ['10.0.2.0/24'] }, 'in spec.excludeIPs[0]: it is outside spec.subnet'],
    [{ ips: ['10.0.0.1'], gateway: '10.0.1.1' }, 'invalid IPv4 address "10.0.1.1" in spec.gateway: it is outside spec.subnet'],
    [{ ips: ['10.0.0.1'], gateway: '2001:db8::1' }, 'in spec.gateway: it is an IPv6 address'],
    [{ ips: ['2001:db8::1'] }, 'in spec.ips[0]: it is an IPv6 address'],
    [{ ips: ['10.0.0.1'], reserved: ['10.0.0.x'] }, 'in reserved[0]'],
  ])('rejects %j', (partial, message) => {
    expect(() => allocatableSet({ subnet: '10.0.0.0/24', ...partial })).toThrow(IPParseError);
    expect(() => allocatableSet({ subnet: '10.0.0.0/24', ...partial })).toThrow(message);
  });

  it('rejects a subnet with host bits or of the wrong family', () => {
    expect(() => allocatableSet({ subnet: '10.0.0.1/24', ips: [] })).toThrow(
      'invalid IP CIDR "10.0.0.1/24" in spec.subnet: host bits are set (the network is "10.0.0.0/24")',
    );
    expect(() => allocatableSet({ subnet: '10.0.0.0/24', ips: [], family: 6 })).toThrow('invalid IPv6 CIDR');
  });
});
