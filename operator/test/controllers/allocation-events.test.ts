// Warning Events for failed allocations: reason and fix in the message, one per pod and reason per
// interval, nothing for retryable failures, a failed post only logged.
import { Writable } from 'node:stream';
import type { CoreV1Api } from '@kubernetes/client-node';
import { EVENT_NO_CANDIDATE_POOL, EVENT_POOL_EXHAUSTED, allocationEventRecorder, failureEvent } from '../../src/controllers/allocation-events.js';
import { createLogger } from '../../src/framework/logger.js';
import { ErrorReason } from '../../src/rpc/errors.js';

const pod = { namespace: 'ns', name: 'web-0', uid: 'u1' };
const exhausted = { pod, reason: ErrorReason.PoolExhausted, message: 'no free address in pool(s) p1', pools: [{ name: 'p1', used: 254, total: 254 }] };

describe('failureEvent', () => {
  it('an exhausted pool names the pool, the counts and the fix', () => {
    expect(failureEvent(exhausted)).toEqual({ reason: EVENT_POOL_EXHAUSTED, message: 'pool p1 has no free IP (254/254 allocated); add IPs to spec.ips or scale down' });
  });

  it('several exhausted pools are each named', () => {
    const ev = failureEvent({ ...exhausted, pools: [{ name: 'p1', used: 2, total: 2 }, { name: 'p2', used: null, total: null }] });
    expect(ev!.message).toBe('pool p1 has no free IP (2/2 allocated); pool p2 has no free IP; add IPs to spec.ips of one of them or scale down');
  });

  it('no candidate pool carries the selection message and what to fix', () => {
    const ev = failureEvent({ pod, reason: ErrorReason.NoCandidatePool, message: 'no usable IPv4 pool for pod ns/web-0 interface eth0 (from pod annotation): p1: disabled (spec.disable)', pools: [] });
    expect(ev!.reason).toBe(EVENT_NO_CANDIDATE_POOL);
    expect(ev!.message).toContain('p1: disabled (spec.disable)');
    expect(ev!.message).toContain("fix the pod's ipam.spidernet.io/ippool(s) annotation");
  });

  it('retryable failures get none', () => {
    expect(failureEvent({ pod, reason: ErrorReason.NotReady, message: 'x', pools: [] })).toBeUndefined();
    expect(failureEvent({ pod, reason: ErrorReason.QuotaExceeded, message: 'x', pools: [] })).toBeUndefined();
  });
});

describe('allocationEventRecorder', () => {
  const logged: string[] = [];
  const log = createLogger({ stream: new Writable({ write: (c: Buffer, _e, cb) => (logged.push(c.toString()), cb()) }) });

  it('posts one Warning Event per pod and reason per interval', async () => {
    const posted: { namespace: string; body: { reason?: string; message?: string; type?: string; involvedObject: { uid?: string } } }[] = [];
    const core = { createNamespacedEvent: async (r: (typeof posted)[number]) => void posted.push(r) } as unknown as CoreV1Api;
    let t = 0;
    const record = allocationEventRecorder(core, log, { everyMs: 1000, now: () => t });
    record(exhausted);
    record(exhausted);
    t = 500;
    record({ ...exhausted, reason: ErrorReason.NoCandidatePool });
    t = 1200;
    record(exhausted);
    record({ ...exhausted, reason: ErrorReason.NotReady });
    await new Promise((r) => setImmediate(r));
    expect(posted.map((p) => p.body.reason)).toEqual([EVENT_POOL_EXHAUSTED, EVENT_NO_CANDIDATE_POOL, EVENT_POOL_EXHAUSTED]);
    expect(posted[0]).toMatchObject({ namespace: 'ns', body: { type: 'Warning', involvedObject: { uid: 'u1' } } });
  });

  it('a failed post is logged, never thrown', async () => {
    const core = { createNamespacedEvent: async () => Promise.reject(new Error('forbidden')) } as unknown as CoreV1Api;
    allocationEventRecorder(core, log)(exhausted);
    await new Promise((r) => setTimeout(r, 10));
    expect(logged.join('')).toContain('could not post allocation failure event');
  });
});
