import fc from 'fast-check';
import { IPParseError, canonicalIP, formatIP, parseIP } from '../../../src/core/ip/index.js';

const v6 = (text: string): bigint => parseIP(text, { family: 6 }).value;

describe('parseIP IPv4', () => {
  it.each([
    ['0.0.0.0', 0n],
    ['10.0.0.1', 0x0a000001n],
    ['255.255.255.255', 0xffffffffn],
    ['192.168.1.10', 0xc0a8010an],
  ])('%s', (text, value) => {
    expect(parseIP(text)).toEqual({ family: 4, value });
  });

  it.each([
    ['', 'an octet is empty'],
    ['10.0.0', 'it has 3 octets, not 4'],
    ['10.0.0.1.2', 'it has 5 octets, not 4'],
    ['10.0.0.256', 'an octet is greater than 255'],
    ['10.0.0.01', 'octets must not have leading zeros'],
    ['10..0.1', 'an octet is empty'],
    ['10.0.0.1.', 'an octet is empty'],
    ['10.0.0.x', 'unexpected character "x"'],
    [' 10.0.0.1', 'unexpected character " "'],
    ['10.0.0.1 ', 'unexpected character " "'],
    ['-1.0.0.0', 'unexpected character "-"'],
  ])('rejects %j: %s', (text, reason) => {
    expect(() => parseIP(text)).toThrow(IPParseError);
    expect(() => parseIP(text)).toThrow(reason);
  });
});

describe('parseIP IPv6', () => {
  it.each([
    ['::', 0n],
    ['::1', 1n],
    ['1::', 1n << 112n],
    ['2001:db8::1', 0x20010db8000000000000000000000001n],
    ['2001:DB8::A', 0x20010db800000000000000000000000an],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', 0x20010db8000000000000000000000001n],
    ['1:2:3:4:5:6:7:8', 0x00010002000300040005000600070008n],
    ['1:2:3:4:5:6:7::', 0x00010002000300040005000600070000n],
    ['::2:3:4:5:6:7:8', 0x00000002000300040005000600070008n],
    ['64:ff9b::192.0.2.1', 0x0064ff9b0000000000000000c0000201n],
    ['1:2:3:4:5:6:1.2.3.4', 0x00010002000300040005000601020304n],
  ])('%s', (text, value) => {
    expect(parseIP(text)).toEqual({ family: 6, value });
  });

  it.each([
    ['fe80::1%eth0', 'zone identifiers ("%eth0") are not allowed'],
    ['1::2::3', '"::" may appear only once'],
    [':::', '":::" is not allowed'],
    [':1::', 'it starts with a single ":"'],
    ['1:2:3:4:5:6:7', 'it has 7 groups, not 8'],
    ['1:2:3:4:5:6:7:8:9', 'it has 9 groups, not 8'],
    ['1:2:3:4:5:6:7:8::', '"::" must stand for at least one group'],
    ['::1:2:3:4:5:6:7:8', '"::" must stand for at least one group'],
    ['1:2:', 'it ends with a single ":"'],
    ['12345::', 'group "12345" has more than 4 hex digits'],
    ['2001:db8::g', 'unexpected character "g"'],
    ['1.2.3.4::', 'embedded IPv4 address "1.2.3.4::": unexpected character ":"'],
    ['::1.2.3', 'embedded IPv4 address "1.2.3": it has 3 octets, not 4'],
    ['::ffff:10.0.0.1', 'it is an IPv4-mapped IPv6 address, which is ambiguous (write "10.0.0.1" in an IPv4 pool)'],
    ['::ffff:a00:1', 'IPv4-mapped'],
  ])('rejects %j: %s', (text, reason) => {
    expect(() => parseIP(text)).toThrow(reason);
  });
});

describe('parse errors', () => {
  it('names the field, the value and the expected form', () => {
    expect(() => parseIP('10.0.0.300', { field: 'spec.gateway' })).toThrow(
      'invalid IP address "10.0.0.300" in spec.gateway: an octet is greater than 255; expected an IPv4 address like "192.0.2.10" or an IPv6 address like "2001:db8::10"',
    );
  });

  it('rejects the other family when one is required', () => {
    expect(() => parseIP('2001:db8::1', { family: 4, field: 'spec.ips[0]' })).toThrow(
      'invalid IPv4 address "2001:db8::1" in spec.ips[0]: it is an IPv6 address; expected an IPv4 address like "192.0.2.10"',
    );
    expect(() => parseIP('10.0.0.1', { family: 6 })).toThrow(
      'invalid IPv6 address "10.0.0.1": it is an IPv4 address; expected an IPv6 address like "2001:db8::10"',
    );
  });

  it('carries the parts as fields', () => {
    try {
      parseIP('nope', { family: 4, field: 'f' });
      throw new Error('unreachable');
    } catch (e) {
      expect(e).toBeInstanceOf(IPParseError);
      expect(e).toMatchObject({ kind: 'IPv4 address', value: 'nope', field: 'f', reason: 'unexpected character "n"' });
    }
  });
});

describe('formatIP', () => {
  it('IPv4 dotted quad', () => {
    expect(formatIP(4, 0n)).toBe('0.0.0.0');
    expect(formatIP(4, 0xffffffffn)).toBe('255.255.255.255');
    expect(formatIP(4, 0x0a000001n)).toBe('10.0.0.1');
  });

  // RFC 5952 §4: lowercase, no leading zeros, "::" for the longest run of >= 2 zero groups, leftmost on a tie.
  it.each([
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:0:0:1:0:0', '2001:db8::1:0:0'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:db8::', '2001:db8::'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['0:0:1:0:0:0:0:0', '0:0:1::'],
    ['0:0:0:1:0:0:0:0', '0:0:0:1::'],
    ['0:0:1:0:0:1:0:0', '::1:0:0:1:0:0'],
    ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
    ['1:0:2:0:3:0:4:0', '1:0:2:0:3:0:4:0'],
    ['ABCD:EF01:2345:6789:ABCD:EF01:2345:6789', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
  ])('%s -> %s', (input, out) => {
    expect(canonicalIP(input)).toBe(out);
    expect(formatIP(6, v6(input))).toBe(out);
  });
});

describe('IPv6 text round trip (property)', () => {
  // Groups drawn mostly from 0 so that zero runs of every length and position occur.
  const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  const isMapped = (v: bigint): boolean => v >> 32n === 0xffffn;

  it('parse(format(v)) === v, and the text is RFC 5952 canonical', () => {
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
        const v = groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
        fc.pre(!isMapped(v));
        const text = formatIP(6, v);
        const longestZeroRun = Math.max(0, ...groups.map((_, i) => groups.slice(i).findIndex((g) => g !== 0)).map((n, i) => (n === -1 ? 8 - i : n)));
        return (
          parseIP(text).value === v &&
          text === text.toLowerCase() &&
          !/(^|:)0[0-9a-f]/.test(text) &&
          (text.match(/::/g) ?? []).length === (longestZeroRun >= 2 ? 1 : 0) &&
          canonicalIP(groups.map((g) => g.toString(16).toUpperCase().padStart(4, '0')).join(':')) === text
        );
      }),
      { numRuns: 500, seed: 5952 },
    );
  });
});
