import { IPSet } from '../../../src/core/ip/index.js';
import { carvableSet, formatControlledIPPools, freeSet, parseControlledIPPools, planResize, subnetCounts, takeHighest, takeLowest } from '../../../src/core/subnet/index.js';

const set = (...entries: string[]) => IPSet.parse(4, entries);

describe('carving auto pools out of a SpiderSubnet', () => {
  const spec = { subnet: '10.9.0.0/24', ips: ['10.9.0.1-10.9.0.100'], excludeIPs: ['10.9.0.10-10.9.0.19'], gateway: '10.9.0.1' };

  it('carvable = ips − excludeIPs − reserved − gateway', () => {
    expect(carvableSet(spec, ['10.9.0.50', 'fd00::1']).toStrings()).toEqual(['10.9.0.2-10.9.0.9', '10.9.0.20-10.9.0.49', '10.9.0.51-10.9.0.100']);
  });

  it('free leaves out every range the ledger already gives a pool', () => {
    const ledger = { a: { ips: ['10.9.0.2-10.9.0.5'] }, b: { ips: ['10.9.0.20'], application: 'apps/v1:Deployment:ns:b' } };
    expect(freeSet(spec, [], ledger).toStrings()).toEqual(['10.9.0.6-10.9.0.9', '10.9.0.21-10.9.0.100']);
  });

  it('takes the lowest and gives back the highest, across ranges', () => {
    const s = set('10.0.0.1-10.0.0.3', '10.0.0.10-10.0.0.12');
    expect(takeLowest(s, 4).toStrings()).toEqual(['10.0.0.1-10.0.0.3', '10.0.0.10']);
    expect(takeHighest(s, 4).toStrings()).toEqual(['10.0.0.3', '10.0.0.10-10.0.0.12']);
    expect(takeLowest(s, 100).count).toBe(6n);
    expect(takeLowest(s, 0).isEmpty).toBe(true);
  });

  it('grows all-or-nothing and names the shortage', () => {
    const base = { subnetName: 'sub', poolName: 'p', held: IPSet.empty(4) };
    const grow = planResize({ ...base, current: set('10.0.0.1-10.0.0.2'), size: 4, free: set('10.0.0.7-10.0.0.9') });
    expect(grow.kind === 'grow' && grow.next.toStrings()).toEqual(['10.0.0.1-10.0.0.2', '10.0.0.7-10.0.0.8']);
    const short = planResize({ ...base, current: set('10.0.0.1'), size: 5, free: set('10.0.0.7-10.0.0.9') });
    expect(short.kind).toBe('insufficient');
    expect(short.kind === 'insufficient' && short.message).toMatch(/SpiderSubnet sub has 3 free addresses, pool p needs 4 more/);
    expect(planResize({ ...base, current: set('10.0.0.1-10.0.0.3'), size: 3, free: set() }).kind).toBe('keep');
  });

  it('shrinks only through addresses nobody holds', () => {
    const current = set('10.0.0.1-10.0.0.6');
    const r = planResize({ subnetName: 's', poolName: 'p', current, size: 2, free: set(), held: set('10.0.0.5-10.0.0.6', '10.0.0.1') });
    // 4 to give back, only 10.0.0.2-4 are free: give those three, hold the rest until pods go.
    expect(r.kind === 'shrink' && r.remove.toStrings()).toEqual(['10.0.0.2-10.0.0.4']);
    expect(r.kind === 'shrink' && r.next.toStrings()).toEqual(['10.0.0.1', '10.0.0.5-10.0.0.6']);
    expect(planResize({ subnetName: 's', poolName: 'p', current: set('10.0.0.1-10.0.0.2'), size: 1, free: set(), held: set('10.0.0.1-10.0.0.2') }).kind).toBe('keep');
  });

  it('counts what the subnet has, what it gave and what is left', () => {
    const carvable = carvableSet(spec, []);
    expect(subnetCounts(carvable, { a: { ips: ['10.9.0.2-10.9.0.5'] }, b: { ips: ['10.9.0.30'] } })).toEqual({ totalIPCount: 89, allocatedIPCount: 5, freeIPCount: 84 });
  });

  it('reads and writes the ledger as Spiderpool does (sorted keys), rejecting garbage by name', () => {
    const text = formatControlledIPPools({ z: { ips: ['10.0.0.1'] }, a: { ips: ['10.0.0.2'], application: 'x' } });
    expect(text).toBe('{"a":{"ips":["10.0.0.2"],"application":"x"},"z":{"ips":["10.0.0.1"]}}');
    const back = parseControlledIPPools(text);
    expect(back.ok && Object.keys(back.value)).toEqual(['a', 'z']);
    expect(parseControlledIPPools(undefined)).toEqual({ ok: true, value: {} });
    const bad = parseControlledIPPools('{"p":{"ips":"10.0.0.1"}}');
    expect(!bad.ok && bad.message).toMatch(/controlledIPPools\["p"\]\.ips/);
    expect(parseControlledIPPools('{').ok).toBe(false);
  });
});
