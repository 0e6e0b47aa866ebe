import { selectPoolCandidates, type SelectionResult } from '../../../src/core/selection/index.js';
import { input, pool, v6, withAnno } from './fixtures.js';

const pools = [
  pool('anno-pools-4'), v6('anno-pools-6'),
  pool('anno-pool-4'), v6('anno-pool-6'),
  pool('ns-4'), v6('ns-6'),
  pool('cni-4'), v6('cni-6'),
  pool('default-4', { default: true }), v6('default-6', { default: true }),
];
const IPPOOLS = JSON.stringify([{ interface: 'eth0', ipv4: ['anno-pools-4'], ipv6: ['anno-pools-6'], cleangateway: true }]);
const IPPOOL = JSON.stringify({ ipv4: ['anno-pool-4'], ipv6: ['anno-pool-6'] });
const NS = { 'ipam.spidernet.io/default-ipv4-ippool': '["ns-4"]', 'ipam.spidernet.io/default-ipv6-ippool': '["ns-6"]' };
const CNI = { ipv4: ['cni-4'], ipv6: ['cni-6'] };

function names(r: SelectionResult) {
  if (!r.ok) throw new Error(r.error.message);
  return { source: r.value.source, v4: r.value.v4.map((c) => c.name), v6: r.value.v6.map((c) => c.name), clean: r.value.cleanGateway };
}

describe('source precedence: ippools > ippool > namespace > CNI config > spec.default', () => {
  it('ipam.spidernet.io/ippools beats everything below it', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippools': IPPOOLS, 'ipam.spidernet.io/ippool': IPPOOL }, { pools, namespaceAnnotations: NS, cniDefaults: CNI }));
    expect(names(r)).toEqual({ source: 'pod-ippools-annotation', v4: ['anno-pools-4'], v6: ['anno-pools-6'], clean: true });
  });
  it('ipam.spidernet.io/ippool beats namespace defaults', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippool': IPPOOL }, { pools, namespaceAnnotations: NS, cniDefaults: CNI, cniCleanGateway: true }));
    expect(names(r)).toEqual({ source: 'pod-ippool-annotation', v4: ['anno-pool-4'], v6: ['anno-pool-6'], clean: true });
  });
  it('namespace defaults beat CNI config defaults', () => {
    const r = selectPoolCandidates(input({ pools, namespaceAnnotations: NS, cniDefaults: CNI }));
    expect(names(r)).toEqual({ source: 'namespace-default', v4: ['ns-4'], v6: ['ns-6'], clean: false });
  });
  it('one namespace family is enough to make the namespace the source (the other family is not requested)', () => {
    const r = selectPoolCandidates(input({ pools, namespaceAnnotations: { 'ipam.spidernet.io/default-ipv4-ippool': '["ns-4"]' }, cniDefaults: CNI }));
    expect(names(r)).toEqual({ source: 'namespace-default', v4: ['ns-4'], v6: [], clean: false });
  });
  it('empty namespace lists fall through', () => {
    const r = selectPoolCandidates(input({ pools, namespaceAnnotations: { 'ipam.spidernet.io/default-ipv4-ippool': '[]' }, cniDefaults: CNI }));
    expect(names(r).source).toBe('cni-config-default');
  });
  it('CNI config defaults beat spec.default pools', () => {
    const r = selectPoolCandidates(input({ pools, cniDefaults: CNI }));
    expect(names(r)).toEqual({ source: 'cni-config-default', v4: ['cni-4'], v6: ['cni-6'], clean: false });
  });
  it('spec.default pools are the last resort', () => {
    const r = selectPoolCandidates(input({ pools }));
    expect(names(r)).toEqual({ source: 'cluster-default', v4: ['default-4'], v6: ['default-6'], clean: false });
  });
  it('with nothing at all the error says so', () => {
    const r = selectPoolCandidates(input({ pools: [pool('a')] }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.kind).toBe('no-pool-rule');
      expect(r.error.message).toContain('no pool with spec.default: true');
    }
  });
  it('the winning source is final: its pools all filtered out does not fall back to the next source', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippool': '{"ipv4":["gone"]}' }, { pools, cniDefaults: CNI }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.kind).toBe('family-exhausted');
  });
});

describe('annotation errors surface as selection errors', () => {
  it('a malformed ippools annotation', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippools': '[{"interface":"eth0"}' }, { pools }));
    expect(!r.ok && r.error.kind).toBe('invalid-annotation');
    expect(!r.ok && r.error.message).toContain('annotation ipam.spidernet.io/ippools=');
  });
  it('a malformed namespace default', () => {
    const r = selectPoolCandidates(input({ pools, namespaceAnnotations: { 'ipam.spidernet.io/default-ipv6-ippool': 'ns-6' } }));
    expect(!r.ok && r.error.kind).toBe('invalid-annotation');
  });
  it('ippools must list the interface the runtime asks for', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippools': IPPOOLS }, { pools, nic: 'net1' }));
    expect(!r.ok && r.error.kind).toBe('interface-not-in-annotation');
    expect(!r.ok && r.error.message).toContain('lists interfaces eth0 but not net1');
  });
  it('ippools picks the item of this interface, with its own cleangateway', () => {
    const anno = JSON.stringify([{ interface: 'eth0', ipv4: ['anno-pools-4'] }, { interface: 'net1', ipv4: ['cni-4'], cleangateway: true }]);
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippools': anno }, { pools, nic: 'net1' }));
    expect(names(r)).toEqual({ source: 'pod-ippools-annotation', v4: ['cni-4'], v6: [], clean: true });
  });
  it('ippool with an interface other than the requested one is an error (Spiderpool AnnoPodIPPoolValue.NIC)', () => {
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippool': '{"interface":"net1","ipv4":["anno-pool-4"]}' }, { pools }));
    expect(!r.ok && r.error.kind).toBe('interface-not-in-annotation');
    const ok = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippool': '{"interface":"eth0","ipv4":["anno-pool-4"]}' }, { pools }));
    expect(names(ok).v4).toEqual(['anno-pool-4']);
  });
});
