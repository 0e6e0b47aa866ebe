import fc from 'fast-check';
import { autoPoolName, MAX_POOL_NAME_LENGTH, uidSuffix } from '../../../src/core/workload/index.js';

const UID = '2f1f0b1c-7d0e-4b8e-9a4c-8a1b2c3d4e5f';

describe('auto pool name (applicationinformers.AutoPoolName)', () => {
  it('is auto{v}-{app}-{if}-{first 5 of the last UID group}', () => {
    expect(autoPoolName('nginx', 4, 'eth0', UID)).toBe('auto4-nginx-eth0-8a1b2');
    expect(autoPoolName('nginx', 6, 'net1', UID)).toBe('auto6-nginx-net1-8a1b2');
  });

  it('lowercases every part', () => {
    expect(autoPoolName('Nginx', 4, 'ETH0', '2F1F-ABCDEF')).toBe('auto4-nginx-eth0-abcde');
  });

  it('uses the whole last group when shorter than 5, and a UID without dashes as one group', () => {
    expect(uidSuffix('a-b-abc')).toBe('abc');
    expect(uidSuffix('abcdefgh')).toBe('abcde');
    expect(autoPoolName('app', 4, 'eth0', 'x-12')).toBe('auto4-app-eth0-12');
  });

  it('cuts a long app name so the whole name is at most 253 characters', () => {
    const app = 'a'.repeat(300);
    const name = autoPoolName(app, 4, 'eth0', UID);
    expect(name.length).toBe(MAX_POOL_NAME_LENGTH);
    expect(name.startsWith('auto4-aaaa')).toBe(true);
    expect(name.endsWith('-eth0-8a1b2')).toBe(true);
  });

  it('leaves a name of exactly the budget uncut, and cuts one character more', () => {
    const budget = MAX_POOL_NAME_LENGTH - 5 - 8 - 'eth0'.length;
    expect(autoPoolName('b'.repeat(budget), 4, 'eth0', UID).length).toBe(MAX_POOL_NAME_LENGTH);
    expect(autoPoolName('b'.repeat(budget + 1), 4, 'eth0', UID)).toBe(autoPoolName('b'.repeat(budget), 4, 'eth0', UID));
  });

  it('does not crash on an interface name longer than the budget (Spiderpool panics here)', () => {
    const name = autoPoolName('app', 4, 'i'.repeat(400), UID);
    expect(name.length).toBeLessThanOrEqual(MAX_POOL_NAME_LENGTH);
    expect(name).toMatch(/^auto4-app-i+-8a1b2$/);
  });

  it('replaces characters a Kubernetes name cannot hold, and a trailing dot left by the cut', () => {
    expect(autoPoolName('app', 4, 'net_1', UID)).toBe('auto4-app-net-1-8a1b2');
    const budget = MAX_POOL_NAME_LENGTH - 5 - 8 - 4;
    const app = `${'c'.repeat(budget - 1)}.dd`;
    expect(autoPoolName(app, 4, 'eth0', UID)).toBe(`auto4-${'c'.repeat(budget - 1)}-eth0-8a1b2`);
  });

  it('property: always a valid DNS-1123 subdomain of at most 253 chars for valid app names', () => {
    const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/);
    const appName = fc.array(label, { minLength: 1, maxLength: 8 }).map((ls) => ls.join('.'));
    const nic = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_]{0,14}$/);
    fc.assert(
      fc.property(appName, nic, fc.uuid(), fc.constantFrom(4 as const, 6 as const), (app, ifName, uid, v) => {
        const name = autoPoolName(app, v, ifName, uid);
        expect(name.length).toBeLessThanOrEqual(MAX_POOL_NAME_LENGTH);
        expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
        expect(name.startsWith(`auto${v}-`)).toBe(true);
      }),
    );
  });
});
