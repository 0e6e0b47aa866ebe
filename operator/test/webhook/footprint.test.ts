// The pure admission rules: pool overlap (same subnet: shared addresses; different subnets: CIDR
// overlap), subnet overlap, pool inside its SpiderSubnet, removal of allocated addresses.
import { type Footprint, fieldMessage, footprintOf, outsideSubnet, poolConflicts, removedAllocated, subnetConflicts } from '../../src/webhook/footprint.js';

const pool = (name: string, subnet: string, ips: string[], excludeIPs: string[] = []): Footprint => {
  const f = footprintOf('SpiderIPPool', name, { subnet, ips, excludeIPs });
  if (!('addresses' in f)) throw new Error(fieldMessage(f));
  return f;
};
const subnet = (name: string, cidr: string, ips: string[], excludeIPs: string[] = []): Footprint => {
  const f = footprintOf('SpiderSubnet', name, { subnet: cidr, ips, excludeIPs });
  if (!('addresses' in f)) throw new Error(fieldMessage(f));
  return f;
};

describe('footprintOf', () => {
  it('is spec.ips minus spec.excludeIPs', () => {
    const f = pool('a', '10.0.0.0/24', ['10.0.0.1-10.0.0.10'], ['10.0.0.5']);
    expect(f.addresses.count).toBe(9n);
    expect(f.addresses.hasIP('10.0.0.5')).toBe(false);
  });

  it('names the field that does not parse', () => {
    expect(footprintOf('SpiderIPPool', 'a', { subnet: '10.0.0.1/24', ips: [] })).toMatchObject({ field: 'spec.subnet' });
    expect(footprintOf('SpiderIPPool', 'a', { subnet: '10.0.0.0/24', ips: ['10.0.0.1', 'nope'] })).toMatchObject({ field: 'spec.ips' });
    expect(footprintOf('SpiderIPPool', 'a', { subnet: '10.0.0.0/24', ipVersion: 6, ips: [] })).toMatchObject({ field: 'spec.ipVersion' });
  });
});

describe('poolConflicts', () => {
  const a = pool('a', '10.0.0.0/24', ['10.0.0.1-10.0.0.10']);

  it('refuses shared addresses in one subnet, naming the entry and the other pool', () => {
    const b = pool('b', '10.0.0.0/24', ['10.0.0.20', '10.0.0.8-10.0.0.30']);
    const errors = poolConflicts(b, ['10.0.0.20', '10.0.0.8-10.0.0.30'], [a]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.field).toBe('spec.ips[1]');
    expect(errors[0]!.message).toContain('10.0.0.8-10.0.0.10');
    expect(errors[0]!.message).toContain('SpiderIPPool a');
  });

  it('accepts disjoint addresses in one subnet, and excluded addresses do not count', () => {
    expect(poolConflicts(pool('b', '10.0.0.0/24', ['10.0.0.11-10.0.0.20']), [], [a])).toEqual([]);
    expect(poolConflicts(pool('c', '10.0.0.0/24', ['10.0.0.1-10.0.0.10'], ['10.0.0.1-10.0.0.10']), [], [a])).toEqual([]);
  });

  it('refuses a different subnet that overlaps, accepts a disjoint one', () => {
    const errors = poolConflicts(pool('b', '10.0.0.0/16', ['10.0.5.1']), ['10.0.5.1'], [a]);
    expect(errors.map((e) => e.field)).toEqual(['spec.subnet']);
    expect(errors[0]!.message).toContain('10.0.0.0/24');
    expect(poolConflicts(pool('b', '10.0.1.0/24', ['10.0.1.1']), [], [a])).toEqual([]);
  });

  it('ignores itself (updates), subnets and the other family', () => {
    expect(poolConflicts(pool('a', '10.0.0.0/24', ['10.0.0.1-10.0.0.20']), [], [a])).toEqual([]);
    expect(poolConflicts(a, [], [subnet('s', '10.0.0.0/24', ['10.0.0.1-10.0.0.254'])])).toEqual([]);
    expect(poolConflicts(pool('v6', 'fd00::/64', ['fd00::1-fd00::10']), [], [a])).toEqual([]);
  });

  it('IPv6 ranges overlap too', () => {
    const x = pool('x', 'fd00::/120', ['fd00::1-fd00::10']);
    const y = pool('y', 'fd00::/120', ['fd00::10-fd00::20']);
    expect(poolConflicts(y, ['fd00::10-fd00::20'], [x])[0]).toMatchObject({ field: 'spec.ips[0]' });
  });
});

describe('subnetConflicts', () => {
  it('refuses overlapping and equal CIDRs, accepts disjoint ones', () => {
    const s = subnet('s', '10.1.0.0/16', ['10.1.0.1']);
    expect(subnetConflicts(subnet('t', '10.1.2.0/24', ['10.1.2.1']), [s])[0]).toMatchObject({ field: 'spec.subnet' });
    expect(subnetConflicts(subnet('t', '10.1.0.0/16', ['10.1.2.1']), [s])).toHaveLength(1);
    expect(subnetConflicts(subnet('t', '10.2.0.0/16', ['10.2.0.1']), [s])).toEqual([]);
    expect(subnetConflicts(subnet('s', '10.1.0.0/16', ['10.1.0.2']), [s])).toEqual([]);
  });
});

describe('outsideSubnet', () => {
  const s = subnet('s', '10.0.0.0/24', ['10.0.0.1-10.0.0.100'], ['10.0.0.50']);

  it('accepts a pool inside the subnet usable addresses', () => {
    expect(outsideSubnet(pool('p', '10.0.0.0/24', ['10.0.0.1-10.0.0.49']), [], s)).toEqual([]);
  });

  it('names the entry that leaves the subnet, counting excludeIPs as outside', () => {
    const ips = ['10.0.0.1-10.0.0.10', '10.0.0.45-10.0.0.55'];
    const e = outsideSubnet(pool('p', '10.0.0.0/24', ips), ips, s);
    expect(e).toHaveLength(1);
    expect(e[0]!.field).toBe('spec.ips[1]');
    expect(e[0]!.message).toContain('10.0.0.50');
    expect(e[0]!.message).toContain('SpiderSubnet s');
  });
});

describe('removedAllocated', () => {
  const before = { ips: ['10.0.0.1-10.0.0.10', '10.0.0.20'] };
  const held = [
    { ip: '10.0.0.5', pod: 'ns/web-0' },
    { ip: '10.0.0.20', pod: 'ns/web-1' },
  ];

  it('refuses taking an allocated address out of spec.ips, naming the old entry and the pod', () => {
    const after = { ips: ['10.0.0.1-10.0.0.4', '10.0.0.20'] };
    const e = removedAllocated(4, before, pool('p', '10.0.0.0/24', after.ips), after, held);
    expect(e).toEqual([{ field: 'spec.ips[0] (was "10.0.0.1-10.0.0.10")', message: '10.0.0.5 is allocated to pod ns/web-0; release it first' }]);
  });

  it('refuses excluding an allocated address, naming the excludeIPs entry', () => {
    const after = { ips: before.ips, excludeIPs: ['10.0.0.9', '10.0.0.20'] };
    const e = removedAllocated(4, before, pool('p', '10.0.0.0/24', after.ips, after.excludeIPs), after, held);
    expect(e).toEqual([{ field: 'spec.excludeIPs[1]', message: '10.0.0.20 is allocated to pod ns/web-1; release it first' }]);
  });

  it('accepts removing free addresses', () => {
    const after = { ips: ['10.0.0.5', '10.0.0.20'] };
    expect(removedAllocated(4, before, pool('p', '10.0.0.0/24', after.ips), after, held)).toEqual([]);
  });
});
