import { IPParseError, cidrRange, formatCIDR, formatRange, parseCIDR, parseIPEntry } from '../../../src/core/ip/index.js';

describe('parseCIDR', () => {
  it.each([
    ['10.0.0.0/24', 4, 0x0a000000n, 24],
    ['0.0.0.0/0', 4, 0n, 0],
    ['10.0.0.7/32', 4, 0x0a000007n, 32],
    ['2001:db8::/64', 6, 0x20010db8n << 96n, 64],
    ['::/0', 6, 0n, 0],
    ['2001:db8::1/128', 6, (0x20010db8n << 96n) | 1n, 128],
  ])('%s', (text, family, network, prefix) => {
    const c = parseCIDR(text);
    expect(c).toEqual({ family, network, prefix });
    expect(formatCIDR(c)).toBe(text);
  });

  it('names the network when host bits are set', () => {
    expect(() => parseCIDR('10.0.0.5/24', { field: 'spec.subnet' })).toThrow(
      'invalid IP CIDR "10.0.0.5/24" in spec.subnet: host bits are set (the network is "10.0.0.0/24"); expected a network like "192.0.2.0/24" or "2001:db8::/64"',
    );
    expect(() => parseCIDR('2001:db8::1/64', { family: 6 })).toThrow('host bits are set (the network is "2001:db8::/64")');
  });

  it.each([
    ['10.0.0.0', 'the "/prefix" part is missing'],
    ['10.0.0.0/33', 'prefix length "33" is not a number from 0 to 32'],
    ['10.0.0.0/024', 'prefix length "024" is not a number from 0 to 32'],
    ['10.0.0.0/', 'prefix length "" is not a number from 0 to 32'],
    ['10.0.0.0/-1', 'prefix length "-1"'],
    ['2001:db8::/129', 'prefix length "129" is not a number from 0 to 128'],
    ['10.0.0/24', 'address "10.0.0": it has 3 octets, not 4'],
    ['10.0.0.0/24/1', 'prefix length "24/1"'],
  ])('rejects %j: %s', (text, reason) => {
    expect(() => parseCIDR(text)).toThrow(IPParseError);
    expect(() => parseCIDR(text)).toThrow(reason);
  });

  it('rejects the wrong family', () => {
    expect(() => parseCIDR('2001:db8::/64', { family: 4 })).toThrow(
      'invalid IPv4 CIDR "2001:db8::/64": address "2001:db8::": it is an IPv6 address; expected an IPv4 network like "192.0.2.0/24"',
    );
  });

  it('cidrRange covers network to broadcast', () => {
    expect(cidrRange(parseCIDR('10.0.0.0/30'))).toEqual({ start: 0x0a000000n, end: 0x0a000003n });
    expect(cidrRange(parseCIDR('::/0'))).toEqual({ start: 0n, end: (1n << 128n) - 1n });
  });
});

describe('parseIPEntry', () => {
  it('single IP, range and CIDR', () => {
    expect(parseIPEntry('10.0.0.1')).toEqual({ family: 4, range: { start: 0x0a000001n, end: 0x0a000001n } });
    expect(parseIPEntry('10.0.0.1-10.0.0.9')).toEqual({ family: 4, range: { start: 0x0a000001n, end: 0x0a000009n } });
    expect(parseIPEntry('10.0.0.4-10.0.0.4')).toEqual({ family: 4, range: { start: 0x0a000004n, end: 0x0a000004n } });
    expect(parseIPEntry('10.0.0.16/28')).toEqual({ family: 4, range: { start: 0x0a000010n, end: 0x0a00001fn } });
    expect(parseIPEntry('2001:db8::a-2001:db8::f', { family: 6 })).toEqual({ family: 6, range: { start: (0x20010db8n << 96n) | 10n, end: (0x20010db8n << 96n) | 15n } });
  });

  it('start after end', () => {
    expect(() => parseIPEntry('10.0.0.9-10.0.0.1', { family: 4, field: 'spec.ips' })).toThrow(
      'invalid IPv4 range "10.0.0.9-10.0.0.1" in spec.ips: start is after end; expected "a-b" with a <= b',
    );
  });

  it('mixed families', () => {
    expect(() => parseIPEntry('10.0.0.1-2001:db8::1')).toThrow(
      'invalid IP range "10.0.0.1-2001:db8::1": start and end are different IP families; expected "a-b" with a and b of one family',
    );
    expect(() => parseIPEntry('2001:db8::1-10.0.0.1')).toThrow('start and end are different IP families');
    expect(() => parseIPEntry('10.0.0.1-2001:db8::1', { family: 4 })).toThrow(
      'invalid IPv4 range "10.0.0.1-2001:db8::1": end "2001:db8::1": it is an IPv6 address; expected "a-b" where a and b are IPv4 addresses',
    );
  });

  it.each([
    ['10.0.0.1-', 'end "": an octet is empty'],
    ['-10.0.0.1', 'start "": an octet is empty'],
    ['10.0.0.1 - 10.0.0.5', 'start "10.0.0.1 ": unexpected character " "'],
    ['10.0.0.1-10.0.0.2-10.0.0.3', 'end "10.0.0.2-10.0.0.3": unexpected character "-"'],
    ['10.0.0.1/24', 'host bits are set'],
    ['2001:db8::1', 'it is an IPv6 address'],
  ])('rejects %j in an IPv4 pool: %s', (text, reason) => {
    expect(() => parseIPEntry(text, { family: 4 })).toThrow(reason);
  });

  it('formatRange prints a single address bare', () => {
    expect(formatRange(4, { start: 1n, end: 1n })).toBe('0.0.0.1');
    expect(formatRange(6, { start: 1n, end: 2n })).toBe('::1-::2');
  });
});
