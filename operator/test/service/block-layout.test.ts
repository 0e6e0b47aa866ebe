// Block naming and addressing, and the size bound of a full block (ADR 0005: far below 1 MiB).
import { applyBatch, type Mutation } from '../../src/service/block-committer.js';
import { addressAt, blockName, slotOf } from '../../src/service/block-layout.js';

describe('block layout', () => {
  it('maps an address to its aligned /24 or /120 block and back', () => {
    expect(slotOf('p', 4, '10.6.1.200')).toEqual({ block: { name: 'p-0a060100', pool: 'p', cidr: '10.6.1.0/24' }, offset: 200 });
    const v6 = slotOf('p6', 6, 'fd00::1:2ff');
    expect(v6).toEqual({ block: { name: 'p6-fd000000000000000000000000010200', pool: 'p6', cidr: 'fd00::1:200/120' }, offset: 255 });
    expect(addressAt(6, v6.block.cidr, 255)).toBe('fd00::1:2ff');
    expect(addressAt(4, '10.6.1.0/24', 0)).toBe('10.6.1.0');
  });

  it('keeps names within 253 characters and distinct for long pool names', () => {
    const a = blockName('x'.repeat(240) + 'a', 6, 0n);
    const b = blockName('x'.repeat(240) + 'b', 6, 0n);
    expect(a.length).toBeLessThanOrEqual(253);
    expect(a).not.toBe(b);
  });

  it('a full block of 256 entries with maximal names stays well under 1 MiB', () => {
    const ref = slotOf('p'.repeat(253), 4, '10.0.0.0').block;
    const batch: Mutation[] = Array.from({ length: 256 }, (_, i) => ({
      op: 'allocate',
      offset: i,
      entry: {
        uid: '0f6bd1a8-7a3c-4c1e-9d2e-5f3a1b2c3d4e',
        pod: `${'n'.repeat(63)}/${'p'.repeat(250)}${String(i).padStart(3, '0')}`,
        nic: 'eth0',
        cid: 'c'.repeat(64),
        node: 'w'.repeat(253),
        net: 'macvlan-underlay',
        at: '2026-11-21T19:00:00.000Z',
        ok: `StatefulSet/${'s'.repeat(253)}`,
      },
    }));
    const { next } = applyBatch(null, ref, '3f1c2d4e-aaaa-bbbb-cccc-000000000000', batch);
    const bytes = Buffer.byteLength(JSON.stringify(next));
    expect(bytes).toBeLessThan(300 * 1024);
    // A typical entry: ~260 bytes, a quarter of it the 64-hex container id; a full block ~67 KB.
    const typical = { uid: '0f6bd1a8-7a3c-4c1e-9d2e-5f3a1b2c3d4e', pod: 'default/web-7f9c8d6b5-x2k4p', nic: 'eth0', cid: 'c'.repeat(64), node: 'worker-17', seq: 4242, at: '2026-11-21T19:00:00.000Z', ok: 'ReplicaSet/web-7f9c8d6b5' };
    expect(Buffer.byteLength(JSON.stringify(typical))).toBeLessThan(270);
  });
});
