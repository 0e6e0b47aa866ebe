import { parseNamespaceDefaultPools, parseRoutesAnnotation } from '../../../src/core/annotations/index.js';

describe('ipam.spidernet.io/routes', () => {
  it('reads v4 and v6 routes', () => {
    expect(parseRoutesAnnotation('[{"dst":"10.20.0.0/16","gw":"172.18.40.1"},{"dst":"fd00::/64","gw":"fd01::1"}]')).toEqual({
      ok: true,
      value: [
        { dst: '10.20.0.0/16', gw: '172.18.40.1' },
        { dst: 'fd00::/64', gw: 'fd01::1' },
      ],
    });
    expect(parseRoutesAnnotation('[]')).toEqual({ ok: true, value: [] });
    expect(parseRoutesAnnotation('[{"dst":"0.0.0.0/0","gw":"10.0.0.1"}]').ok).toBe(true);
  });

  it.each([
    ['nope', 'not valid JSON'],
    ['{"dst":"10.0.0.0/8","gw":"10.0.0.1"}', 'the value is not a JSON array'],
    ['[1]', 'route 0: not a JSON object'],
    ['[{"gw":"10.0.0.1"}]', 'route 0: "dst" must be a CIDR string'],
    ['[{"dst":"10.0.0.0/8"}]', 'route 0: "gw" must be an IP string'],
    ['[{"dst":"10.0.0.0","gw":"10.0.0.1"}]', 'route 0: dst "10.0.0.0" is not a CIDR'],
    ['[{"dst":"10.0.0.0/33","gw":"10.0.0.1"}]', 'route 0: dst "10.0.0.0/33" is not a CIDR'],
    ['[{"dst":"fd00::/129","gw":"fd00::1"}]', 'route 0: dst "fd00::/129" is not a CIDR'],
    ['[{"dst":"10.0.0.0/x","gw":"10.0.0.1"}]', 'route 0: dst "10.0.0.0/x" is not a CIDR'],
    ['[{"dst":"10.0.0.0/8","gw":"10.0.0.300"}]', 'route 0: gw "10.0.0.300" is not an IP address'],
    ['[{"dst":"10.0.0.0/8","gw":"fd00::1"}]', 'route 0: dst "10.0.0.0/8" is IPv4 but gw "fd00::1" is IPv6'],
    ['[{"dst":"10.0.0.0/8","gw":"10.0.0.1"},{"dst":"fd00::/8","gw":"10.0.0.1"}]', 'route 1: dst "fd00::/8" is IPv6 but gw "10.0.0.1" is IPv4'],
  ])('rejects %s with %s', (raw, reason) => {
    const r = parseRoutesAnnotation(raw);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.annotation).toBe('ipam.spidernet.io/routes');
    expect(r.error.reason).toContain(reason);
    expect(r.error.message).toContain('(e.g. [{"dst":"10.20.0.0/16","gw":"172.18.40.1"}])');
  });
});

describe('namespace default-ipv4-ippool / default-ipv6-ippool', () => {
  it('reads both lists; absent or null means none', () => {
    expect(
      parseNamespaceDefaultPools({
        'ipam.spidernet.io/default-ipv4-ippool': '["a","b-*"]',
        'ipam.spidernet.io/default-ipv6-ippool': 'null',
      }),
    ).toEqual({ ok: true, value: { ipv4: ['a', 'b-*'], ipv6: [] } });
    expect(parseNamespaceDefaultPools(undefined)).toEqual({ ok: true, value: { ipv4: [], ipv6: [] } });
    expect(parseNamespaceDefaultPools({ other: 'x' })).toEqual({ ok: true, value: { ipv4: [], ipv6: [] } });
  });

  it.each([
    ['ipam.spidernet.io/default-ipv4-ippool', 'pool-a', 'not valid JSON'],
    ['ipam.spidernet.io/default-ipv4-ippool', '"pool-a"', 'the value must be a list of names'],
    ['ipam.spidernet.io/default-ipv6-ippool', '[1]', 'the value must contain only strings'],
    ['ipam.spidernet.io/default-ipv6-ippool', '["a","a"]', 'the value lists "a" twice'],
  ])('rejects %s=%s', (key, raw, reason) => {
    const r = parseNamespaceDefaultPools({ [key]: raw });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.annotation).toBe(key);
    expect(r.error.reason).toContain(reason);
    expect(r.error.message).toContain('expected a JSON array of pool names or globs (e.g. ["default-v4-pool","team-a-*"])');
  });
});
