import { parseSubnetAnnotation, parseSubnetsAnnotation } from '../../../src/core/annotations/index.js';

describe('ipam.spidernet.io/subnet', () => {
  it('defaults the interface to eth0 and keeps the first subnet per family (Spiderpool drops the rest)', () => {
    expect(parseSubnetAnnotation('{"ipv4":["s4","other"],"ipv6":["s6"]}')).toEqual({
      ok: true,
      value: { interface: 'eth0', ipv4: 's4', ipv6: 's6' },
    });
    expect(parseSubnetAnnotation('{"interface":"net1","ipv6":["s6"]}')).toEqual({ ok: true, value: { interface: 'net1', ipv6: 's6' } });
  });

  it.each([
    ['x', 'not valid JSON'],
    ['[]', 'not a JSON object'],
    ['{}', 'no subnet is named'],
    ['{"ipv4":[]}', 'no subnet is named'],
    ['{"ipv4":[""]}', '"ipv4" names an empty subnet'],
    ['{"ipv4":"s4"}', '"ipv4" must be a list of subnet names'],
    ['{"ipv6":[1]}', '"ipv6" must contain only strings'],
    ['{"interface":1,"ipv4":["s"]}', '"interface" must be a string'],
    ['{"ipv4pool":["s"]}', 'no subnet is named (ignored unknown field "ipv4pool")'],
  ])('rejects %s with %s', (raw, reason) => {
    const r = parseSubnetAnnotation(raw);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.annotation).toBe('ipam.spidernet.io/subnet');
    expect(r.error.reason).toContain(reason);
    expect(r.error.message).toContain('(e.g. {"ipv4":["subnet-v4"],"ipv6":["subnet-v6"]})');
  });
});

describe('ipam.spidernet.io/subnets', () => {
  it('reads one item per interface', () => {
    expect(parseSubnetsAnnotation('[{"interface":"eth0","ipv4":["a"]},{"interface":"net1","ipv4":["b"],"ipv6":["c"]}]')).toEqual({
      ok: true,
      value: [
        { interface: 'eth0', ipv4: 'a' },
        { interface: 'net1', ipv4: 'b', ipv6: 'c' },
      ],
    });
  });

  it.each([
    ['{}', 'the value is not a JSON array'],
    ['[]', 'the array is empty'],
    ['[{"ipv4":["a"]}]', 'item 0: "interface" is required'],
    ['[{"interface":"eth0","ipv4":["a"]},{"interface":"eth0","ipv4":["b"]}]', 'item 1: duplicate interface "eth0"'],
    ['[{"interface":"eth0","ipv4":["a"]},{"interface":"net1","ipv4":["a"]}]', 'item 1: subnet "a" is already used by another interface'],
    ['[{"interface":"eth0","ipv6":["a"]},{"interface":"net1","ipv6":["a"]}]', 'item 1: subnet "a" is already used by another interface'],
    ['[{"interface":"eth0"}]', 'item 0: no subnet is named'],
    ['["eth0"]', 'item 0: not a JSON object'],
  ])('rejects %s with %s', (raw, reason) => {
    const r = parseSubnetsAnnotation(raw);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.annotation).toBe('ipam.spidernet.io/subnets');
    expect(r.error.reason).toContain(reason);
    expect(r.error.message).toContain('expected a non-empty JSON array');
  });

  it('allows the same subnet name for v4 on one NIC and v6 on another (different families)', () => {
    expect(parseSubnetsAnnotation('[{"interface":"eth0","ipv4":["a"]},{"interface":"net1","ipv6":["a"]}]').ok).toBe(true);
  });
});
