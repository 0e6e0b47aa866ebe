import { applicationRef, autoPoolPlan, wantsAutoPools, type Application } from '../../../src/core/workload/index.js';

const app: Application = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: 'web', uid: 'u' };

describe('auto pool plan of a workload', () => {
  it('is empty without a subnet annotation', () => {
    expect(autoPoolPlan({ app, replicas: 3, templateAnnotations: {}, defaultFlexibleIPNumber: 1 })).toEqual({ ok: true });
    expect(wantsAutoPools({ 'ipam.spidernet.io/subnet': '{}' })).toBe(true);
  });

  it('one pool per interface and family, sized replicas + default', () => {
    const r = autoPoolPlan({
      app,
      replicas: 3,
      templateAnnotations: { 'ipam.spidernet.io/subnets': '[{"interface":"eth0","ipv4":["s4"],"ipv6":["s6"]},{"interface":"net1","ipv4":["t4"]}]' },
      defaultFlexibleIPNumber: 1,
    });
    expect(r).toEqual({
      ok: true,
      plan: {
        pools: [
          { ifName: 'eth0', ipVersion: 4, subnetName: 's4' },
          { ifName: 'eth0', ipVersion: 6, subnetName: 's6' },
          { ifName: 'net1', ipVersion: 4, subnetName: 't4' },
        ],
        size: 4,
        ipNumber: { kind: 'flexible', extra: 1 },
        reclaim: true,
      },
    });
  });

  it('fixed N, +N and reclaim false', () => {
    const base = { app, replicas: 5, defaultFlexibleIPNumber: 1 };
    const sub = { 'ipam.spidernet.io/subnet': '{"ipv4":["s4"]}' };
    const fixed = autoPoolPlan({ ...base, templateAnnotations: { ...sub, 'ipam.spidernet.io/ippool-ip-number': '10', 'ipam.spidernet.io/ippool-reclaim': 'false' } });
    expect(fixed.ok && fixed.plan).toMatchObject({ size: 10, reclaim: false, pools: [{ ifName: 'eth0', ipVersion: 4, subnetName: 's4' }] });
    const flex = autoPoolPlan({ ...base, templateAnnotations: { ...sub, 'ipam.spidernet.io/ippool-ip-number': '+2' } });
    expect(flex.ok && flex.plan?.size).toBe(7);
  });

  it('names the annotation at fault', () => {
    const r = autoPoolPlan({ app, replicas: 1, templateAnnotations: { 'ipam.spidernet.io/subnet': '{"ipv4":["s"]}', 'ipam.spidernet.io/ippool-ip-number': 'ten' }, defaultFlexibleIPNumber: 1 });
    expect(!r.ok && r.message).toMatch(/ippool-ip-number/);
    const bad = autoPoolPlan({ app, replicas: 1, templateAnnotations: { 'ipam.spidernet.io/subnet': 'nope' }, defaultFlexibleIPNumber: 1 });
    expect(!bad.ok && bad.message).toMatch(/ipam\.spidernet\.io\/subnet/);
    expect(applicationRef(app)).toBe('apps/v1:Deployment:ns:web');
  });
});
