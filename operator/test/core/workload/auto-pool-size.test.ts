import { autoPoolSize, desiredReplicas, jobPodCount } from '../../../src/core/workload/index.js';

const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: 'web' };
const thirdParty = { apiVersion: 'apps.kruise.io/v1alpha1', kind: 'CloneSet', namespace: 'ns', name: 'cs' };

describe('auto pool size', () => {
  it('"N" → N regardless of replicas', () => {
    expect(autoPoolSize({ app: deploy, replicas: 5, ipNumber: { kind: 'fixed', count: 2 }, defaultFlexibleIPNumber: 1 })).toEqual({
      ok: true,
      size: 2,
      ipNumber: { kind: 'fixed', count: 2 },
    });
  });
  it('"+N" → replicas + N', () => {
    expect(autoPoolSize({ app: deploy, replicas: 5, ipNumber: { kind: 'flexible', extra: 2 }, defaultFlexibleIPNumber: 1 })).toMatchObject({ size: 7 });
    expect(autoPoolSize({ app: deploy, replicas: 0, ipNumber: { kind: 'flexible', extra: 0 }, defaultFlexibleIPNumber: 1 })).toMatchObject({ size: 0 });
  });
  it('no annotation → replicas + the operator default', () => {
    expect(autoPoolSize({ app: deploy, replicas: 3, defaultFlexibleIPNumber: 1 })).toEqual({
      ok: true,
      size: 4,
      ipNumber: { kind: 'flexible', extra: 1 },
    });
  });
  it('an orphan pod always gets one IP', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'p' };
    expect(autoPoolSize({ app: pod, replicas: 9, ipNumber: { kind: 'fixed', count: 4 }, defaultFlexibleIPNumber: 1 })).toMatchObject({ size: 1 });
  });
  it('a third-party controller needs a fixed "N"', () => {
    expect(autoPoolSize({ app: thirdParty, replicas: 3, ipNumber: { kind: 'fixed', count: 4 }, defaultFlexibleIPNumber: 1 })).toMatchObject({ ok: true, size: 4 });
    // With replicas read from its scale subresource, "+N" and the default work for it too.
    expect(autoPoolSize({ app: thirdParty, replicas: 3, ipNumber: { kind: 'flexible', extra: 2 }, defaultFlexibleIPNumber: 1, replicasFromScale: true })).toMatchObject({ ok: true, size: 5 });
    expect(autoPoolSize({ app: thirdParty, replicas: 3, defaultFlexibleIPNumber: 1, replicasFromScale: true })).toMatchObject({ ok: true, size: 4 });
    const none = autoPoolSize({ app: thirdParty, replicas: 3, defaultFlexibleIPNumber: 1 });
    expect(!none.ok && none.message).toContain('CloneSet ns/cs is not a built-in controller');
    const flex = autoPoolSize({ app: thirdParty, replicas: 3, ipNumber: { kind: 'flexible', extra: 1 }, defaultFlexibleIPNumber: 1 });
    expect(!flex.ok && flex.message).toContain('"+N" cannot be resolved');
  });
  it('a known kind under a foreign apiVersion is third-party', () => {
    const r = autoPoolSize({ app: { ...deploy, apiVersion: 'extensions/v1beta1' }, replicas: 1, defaultFlexibleIPNumber: 1 });
    expect(r.ok).toBe(false);
  });
});

describe('desired replicas per kind', () => {
  it.each([
    [{ kind: 'Deployment', replicas: 3 }, 3],
    [{ kind: 'Deployment' }, 0],
    [{ kind: 'StatefulSet', replicas: 2 }, 2],
    [{ kind: 'ReplicaSet', replicas: 4 }, 4],
    [{ kind: 'DaemonSet', desiredNumberScheduled: 7, replicas: 1 }, 7],
    [{ kind: 'DaemonSet' }, 0],
    [{ kind: 'Pod' }, 1],
    [{ kind: 'Job', parallelism: 2, completions: 5 }, 5],
    [{ kind: 'CronJob', parallelism: 3 }, 3],
  ])('%j → %d', (w, n) => {
    expect(desiredReplicas(w)).toBe(n);
  });
  it('job pod count follows CalculateJobPodNum', () => {
    expect(jobPodCount(undefined, undefined)).toBe(1);
    expect(jobPodCount(0, undefined)).toBe(1);
    expect(jobPodCount(4, undefined)).toBe(4);
    expect(jobPodCount(undefined, 0)).toBe(1);
    expect(jobPodCount(undefined, 6)).toBe(6);
    expect(jobPodCount(2, 0)).toBe(1);
  });
});
