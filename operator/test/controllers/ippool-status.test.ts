// Pool status derived from IPAMBlocks: counts, free, the allocatedIPs view and its cap, invalid specs.
import { derivePoolStatus, statusPatch } from '../../src/controllers/ippool-status.js';
import { blocks, pool } from './fixtures.js';

const p = pool('p1', { subnet: '10.6.0.0/16', ips: ['10.6.0.10-10.6.0.29', '10.6.1.0-10.6.1.9'], excludeIPs: ['10.6.0.20'], gateway: '10.6.0.1' });

describe('derivePoolStatus', () => {
  it('an empty pool: total = ips − excludeIPs (gateway outside ips), nothing allocated, no allocatedIPs', () => {
    const d = derivePoolStatus(p, [], []);
    expect(d.status).toEqual({ allocatedIPCount: 0, totalIPCount: 29, freeIPCount: 29, allocatedIPs: null });
    expect(d.specError).toBeUndefined();
  });

  it('counts entries across blocks of the pool only, and maps ip → {interface, pod, podUid} with keys sorted as Go encoding/json does', () => {
    const bs = [
      ...blocks('p1', [
        { ip: '10.6.1.3', pod: 'ns/b', uid: 'ub', nic: 'net1' },
        { ip: '10.6.0.11', pod: 'ns/a', uid: 'ua' },
        { ip: '10.6.0.2', pod: 'ns/c', uid: 'uc' },
      ]),
      ...blocks('other', [{ ip: '10.6.0.12', pod: 'ns/c', uid: 'uc' }]),
    ];
    const d = derivePoolStatus(p, bs, []);
    expect(d.status.allocatedIPCount).toBe(3);
    expect(d.status.totalIPCount).toBe(29);
    expect(d.status.freeIPCount).toBe(27); // 10.6.0.2 is held but outside spec.ips
    expect(d.status.allocatedIPs).toBe(
      '{"10.6.0.11":{"interface":"eth0","pod":"ns/a","podUid":"ua"},"10.6.0.2":{"interface":"eth0","pod":"ns/c","podUid":"uc"},"10.6.1.3":{"interface":"net1","pod":"ns/b","podUid":"ub"}}',
    );
  });

  it('reserved IPs of the pool family (and the gateway when inside ips) leave the total; other families are ignored', () => {
    const q = pool('q', { subnet: '10.6.0.0/24', ips: ['10.6.0.1-10.6.0.10'], gateway: '10.6.0.1' });
    expect(derivePoolStatus(q, [], []).status.totalIPCount).toBe(9);
    expect(derivePoolStatus(q, [], ['10.6.0.2-10.6.0.3', 'fd00::1', '10.9.9.9']).status.totalIPCount).toBe(7);
  });

  it('an address held outside the allocatable set counts as allocated but takes nothing from free', () => {
    const bs = blocks('p1', [
      { ip: '10.6.0.20', pod: 'ns/x', uid: 'ux' }, // excluded after it was handed out
      { ip: '10.6.0.10', pod: 'ns/y', uid: 'uy' },
    ]);
    const d = derivePoolStatus(p, bs, []);
    expect(d.status).toMatchObject({ allocatedIPCount: 2, totalIPCount: 29, freeIPCount: 28 });
  });

  it('leaves allocatedIPs unset above the cap, keeps the counts', () => {
    const allocs = Array.from({ length: 5 }, (_, i) => ({ ip: `10.6.0.${10 + i}`, pod: `ns/p${i}`, uid: `u${i}` }));
    expect(derivePoolStatus(p, blocks('p1', allocs), [], 5).status.allocatedIPs).not.toBeNull();
    const d = derivePoolStatus(p, blocks('p1', allocs), [], 4);
    expect(d.status).toEqual({ allocatedIPCount: 5, totalIPCount: 29, freeIPCount: 24, allocatedIPs: null });
  });

  it('IPv6: /120 blocks and a /64 pool whose size exceeds 2^53 are clamped to a safe integer', () => {
    const v6 = pool('v6', { subnet: 'fd00::/64', ips: ['fd00::-fd00::ffff:ffff:ffff:ffff'] });
    const d = derivePoolStatus(v6, blocks('v6', [{ ip: 'fd00::1:5', pod: 'ns/a', uid: 'ua' }]), []);
    expect(d.status.allocatedIPCount).toBe(1);
    expect(d.status.totalIPCount).toBe(Number.MAX_SAFE_INTEGER);
    expect(d.status.allocatedIPs).toBe(JSON.stringify({ 'fd00::1:5': { interface: 'eth0', pod: 'ns/a', podUid: 'ua' } }));
  });

  it('a spec that does not parse: the error names the field, allocated is still derived, total/free unknown', () => {
    const bad = pool('bad', { subnet: '10.7.0.0/24', ips: ['10.7.0.9-10.7.0.1'] });
    const d = derivePoolStatus(bad, blocks('bad', [{ ip: '10.7.0.5', pod: 'ns/a', uid: 'ua' }]), []);
    expect(d.specError).toMatch(/spec\.ips\[0\]/);
    expect(d.status).toMatchObject({ allocatedIPCount: 1, totalIPCount: null, freeIPCount: null });
  });

  it('a malformed entry is skipped and reported, the rest counted', () => {
    const bs = blocks('p1', [{ ip: '10.6.0.11', pod: 'ns/a', uid: 'ua' }]);
    bs[0]!.spec.allocations['12'] = 'garbage';
    const d = derivePoolStatus(p, bs, []);
    expect(d.status.allocatedIPCount).toBe(1);
    expect(d.blockErrors).toHaveLength(1);
    expect(d.blockErrors[0]).toMatch(/offset 12/);
  });
});

describe('statusPatch', () => {
  it('is undefined when the pool already shows the derived status, else carries only what differs (null removes)', () => {
    const want = { allocatedIPCount: 1, totalIPCount: 10, freeIPCount: 9, allocatedIPs: '{}' };
    expect(statusPatch({ allocatedIPCount: 1, totalIPCount: 10, freeIPCount: 9, allocatedIPs: '{}' }, want)).toBeUndefined();
    expect(statusPatch(undefined, want)).toEqual(want);
    expect(statusPatch({ allocatedIPCount: 1, totalIPCount: 10, freeIPCount: 9, allocatedIPs: '{"x":1}' }, { ...want, allocatedIPs: null })).toEqual({ allocatedIPs: null });
    expect(statusPatch({}, { allocatedIPCount: 0, totalIPCount: null, freeIPCount: null, allocatedIPs: null })).toEqual({ allocatedIPCount: 0 });
  });
});
