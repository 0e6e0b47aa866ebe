import { checkPool, selectPoolCandidates, type RejectionReason } from '../../../src/core/selection/index.js';
import { autoPoolOwnerLabels, autoPoolPodAffinity } from '../../../src/core/workload/index.js';
import type { SpiderIPPool } from '../../../src/api/v2beta1/types.js';
import { input, pool, v6, withAnno } from './fixtures.js';

const app = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: 'web', uid: 'u1' };

function reasonFor(p: SpiderIPPool, family: 4 | 6 = 4, over = {}): RejectionReason | undefined {
  return checkPool(p, family, input({ podController: app, ...over }))?.reason;
}

describe('per-pool filters, each with its reason', () => {
  it('accepts a plain pool', () => expect(reasonFor(pool('p'))).toBeUndefined());
  it('terminating', () => expect(reasonFor(pool('p', {}, { deletionTimestamp: '2024-01-01T00:00:00Z' }))).toBe('terminating'));
  it('disabled', () => expect(reasonFor(pool('p', { disable: true }))).toBe('disabled'));
  it('ipVersion mismatch', () => {
    expect(reasonFor(v6('p'), 4)).toBe('ip-version-mismatch');
    expect(reasonFor(pool('p'), 6)).toBe('ip-version-mismatch');
  });
  it('ipVersion inferred from the subnet when unset', () => {
    const p = pool('p', { subnet: 'fd00::/64' });
    delete p.spec.ipVersion;
    expect(reasonFor(p, 6)).toBeUndefined();
    expect(reasonFor(p, 4)).toBe('ip-version-mismatch');
  });
  it('nodeName', () => {
    expect(reasonFor(pool('p', { nodeName: ['node-1', 'node-2'] }))).toBeUndefined();
    expect(reasonFor(pool('p', { nodeName: ['node-9'] }))).toBe('node-name-mismatch');
  });
  it('nodeAffinity (only when nodeName is empty)', () => {
    expect(reasonFor(pool('p', { nodeAffinity: { matchLabels: { zone: 'a' } } }))).toBeUndefined();
    expect(reasonFor(pool('p', { nodeAffinity: { matchLabels: { zone: 'b' } } }))).toBe('node-affinity-mismatch');
    expect(reasonFor(pool('p', { nodeName: ['node-1'], nodeAffinity: { matchLabels: { zone: 'b' } } }))).toBeUndefined();
  });
  it('namespaceName', () => {
    expect(reasonFor(pool('p', { namespaceName: ['ns'] }))).toBeUndefined();
    expect(reasonFor(pool('p', { namespaceName: ['other'] }))).toBe('namespace-name-mismatch');
  });
  it('namespaceAffinity (only when namespaceName is empty)', () => {
    expect(reasonFor(pool('p', { namespaceAffinity: { matchLabels: { team: 'blue' } } }))).toBeUndefined();
    expect(reasonFor(pool('p', { namespaceAffinity: { matchLabels: { team: 'red' } } }))).toBe('namespace-affinity-mismatch');
    expect(reasonFor(pool('p', { namespaceName: ['ns'], namespaceAffinity: { matchLabels: { team: 'red' } } }))).toBeUndefined();
  });
  it('podAffinity against the pod labels', () => {
    expect(reasonFor(pool('p', { podAffinity: { matchLabels: { app: 'web' } } }))).toBeUndefined();
    expect(reasonFor(pool('p', { podAffinity: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] } }))).toBe('pod-affinity-mismatch');
  });
  it('an invalid selector rejects the pool', () => {
    expect(reasonFor(pool('p', { podAffinity: { matchExpressions: [{ key: 'app', operator: 'In' }] } }))).toBe('invalid-selector');
    expect(reasonFor(pool('p', { nodeAffinity: { matchExpressions: [{ key: 'zone', operator: 'Exists', values: ['a'] }] } }))).toBe('invalid-selector');
  });
  it('an auto pool matches the owning application, not pod labels', () => {
    const auto = pool('auto4-web-eth0-u1', { podAffinity: autoPoolPodAffinity(app) }, { labels: autoPoolOwnerLabels({ subnetName: 's', app, ifName: 'eth0', ipVersion: 4 }) });
    expect(reasonFor(auto)).toBeUndefined();
    expect(reasonFor(auto, 4, { podController: { ...app, name: 'other' } })).toBe('auto-pool-owner-mismatch');
    const noOwner = input();
    expect(checkPool(auto, 4, noOwner)?.reason).toBe('auto-pool-owner-mismatch');
  });
  it('multusName: unqualified names are in the multus namespace; qualified ones as written', () => {
    expect(reasonFor(pool('p', { multusName: ['macvlan-a'] }), 4, { multusNetwork: 'spiderpool/macvlan-a' })).toBeUndefined();
    expect(reasonFor(pool('p', { multusName: ['ns/macvlan-a'] }), 4, { multusNetwork: 'ns/macvlan-a' })).toBeUndefined();
    expect(reasonFor(pool('p', { multusName: ['macvlan-a'] }), 4, { multusNetwork: 'ns/macvlan-a' })).toBe('multus-name-mismatch');
    expect(reasonFor(pool('p', { multusName: ['macvlan-a'] }), 4)).toBe('multus-name-mismatch');
    expect(reasonFor(pool('p'), 4, { multusNetwork: 'ns/whatever' })).toBeUndefined();
  });
  it('checks in Spiderpool order: terminating before disabled before version before node …', () => {
    const p = pool('p', { disable: true, nodeName: ['x'], namespaceName: ['x'] }, { deletionTimestamp: '2024-01-01T00:00:00Z' });
    expect(reasonFor(p, 6)).toBe('terminating');
    expect(reasonFor(pool('p', { disable: true, nodeName: ['x'] }), 6)).toBe('disabled');
    expect(reasonFor(pool('p', { nodeName: ['x'] }), 6)).toBe('ip-version-mismatch');
    expect(reasonFor(pool('p', { nodeName: ['x'], namespaceName: ['x'] }))).toBe('node-name-mismatch');
    expect(reasonFor(pool('p', { namespaceName: ['x'], podAffinity: { matchLabels: { app: 'x' } } }))).toBe('namespace-name-mismatch');
    expect(reasonFor(pool('p', { podAffinity: { matchLabels: { app: 'x' } }, multusName: ['m'] }))).toBe('pod-affinity-mismatch');
  });
});

describe('rejections are recorded and filtered pools skipped, order kept', () => {
  it('keeps the annotation order and records each dropped pool', () => {
    const pools = [pool('c'), pool('a', { disable: true }), pool('b', { nodeName: ['node-9'] }), pool('d')];
    const r = selectPoolCandidates(withAnno({ 'ipam.spidernet.io/ippool': '{"ipv4":["d","a","missing","b","c"]}' }, { pools }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.v4.map((c) => c.name)).toEqual(['d', 'c']);
    expect(r.value.requested).toEqual({ v4: true, v6: false });
    expect(r.value.rejections.map((x) => [x.pool, x.reason])).toEqual([
      ['a', 'disabled'],
      ['missing', 'not-found'],
      ['b', 'node-name-mismatch'],
    ]);
  });
});
