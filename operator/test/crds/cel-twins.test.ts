// The CEL twins are only as good as their IP semantics: these pin them to the Kubernetes CEL IP/CIDR
// libraries (k8s.io/apiserver/pkg/cel/library/{ip,cidr}.go, Go net/netip underneath).

import { cidrContainsIP, formatCIDR, formatIP, maskedPrefix, parseCIDR, parseIP } from './crd-check.js';

describe('isIP / ip()', () => {
  it.each(['127.0.0.1', '0.0.0.0', '255.255.255.255', '::', '::1', '2001:db8::abcd', 'FD00::1', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '64:ff9b::1.2.3.4'])(
    'accepts %s',
    (s) => expect(parseIP(s)).not.toBeNull(),
  );
  it.each([
    ['127.0.0.256', 'octet > 255'],
    ['01.2.3.4', 'leading zero'],
    ['1.2.3', 'three octets'],
    [':::1', 'triple colon'],
    ['1::2::3', 'two ::'],
    ['1:2:3:4:5:6:7:8:9', 'nine groups'],
    ['1:2:3:4:5:6:7:8::', ':: with eight groups'],
    ['12345::', 'group > 4 digits'],
    ['fe80::1%eth0', 'zone'],
    ['::ffff:1.2.3.4', 'IPv4-mapped'],
    ['::ffff:102:304', 'IPv4-mapped, hex'],
    ['', 'empty'],
    [' 1.2.3.4', 'space'],
  ])('rejects %s (%s)', (s) => expect(parseIP(s)).toBeNull());
});

describe('cidr()', () => {
  it('accepts non-canonical host bits (netip.ParsePrefix does), canonicalises with masked()', () => {
    const p = parseCIDR('192.168.0.1/24')!;
    expect(formatCIDR(maskedPrefix(p))).toBe('192.168.0.0/24');
    expect(formatCIDR(maskedPrefix(parseCIDR('FD00:172:18:40:0::/64')!))).toBe('fd00:172:18:40::/64');
  });
  it.each(['192.168.0.0/33', '::/129', '192.168.0.0', '192.168.0.0/', '192.168.0.0/024', '::ffff:1.2.3.0/120'])('rejects %s', (s) => expect(parseCIDR(s)).toBeNull());
  it('containsIP respects family and prefix', () => {
    const c = parseCIDR('172.18.40.0/24')!;
    expect(cidrContainsIP(c, '172.18.40.255')).toBe(true);
    expect(cidrContainsIP(c, '172.18.41.0')).toBe(false);
    expect(cidrContainsIP(c, 'fd00::1')).toBe(false);
    expect(cidrContainsIP(parseCIDR('0.0.0.0/0')!, '8.8.8.8')).toBe(true);
    expect(() => cidrContainsIP(c, 'nope')).toThrow();
  });
});

describe('RFC 5952 formatting (as Go prints)', () => {
  it.each([
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['1:0:0:0:0:0:0:0', '1::'],
  ])('%s -> %s', (input, out) => expect(formatIP(parseIP(input)!)).toBe(out));
});
