// The shared rate-limited Warning Event recorder, and the three recorders built on it (quota, auto
// pool; allocation failures have their own test file): the Event's body, one per object and topic
// per interval, a failed post only logged.
import { Writable } from 'node:stream';
import type { CoreV1Api } from '@kubernetes/client-node';
import { AUTO_POOL_EVENT_REASON, autoPoolEventRecorder } from '../../src/controllers/autopool/events.js';
import { warningEventRecorder } from '../../src/framework/event-recorder.js';
import { createLogger } from '../../src/framework/logger.js';
import { QUOTA_EVENT_REASON, quotaEventRecorder } from '../../src/service/quota-events.js';

interface Posted {
  namespace: string;
  body: {
    metadata: { generateName: string; namespace: string };
    involvedObject: Record<string, string>;
    reason: string;
    type: string;
    message: string;
    source: { component: string };
    firstTimestamp: Date;
    lastTimestamp: Date;
    count: number;
  };
}

function fakeCore(): { core: CoreV1Api; posted: Posted[] } {
  const posted: Posted[] = [];
  return { core: { createNamespacedEvent: async (r: Posted) => void posted.push(r) } as unknown as CoreV1Api, posted };
}

const logged: string[] = [];
const log = createLogger({ stream: new Writable({ write: (c: Buffer, _e, cb) => (logged.push(c.toString()), cb()) }) });
const settle = () => new Promise((r) => setImmediate(r));
const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: 'web', uid: 'd1' };

describe('warningEventRecorder', () => {
  it('posts a Warning Event on the object with the reason, message, source and timestamps', async () => {
    const { core, posted } = fakeCore();
    warningEventRecorder(core, log, { nameInfix: 'x', failureLog: 'f', now: () => 5000 })({ involvedObject: deploy, reason: 'R', message: 'm', topic: 't' });
    await settle();
    expect(posted).toEqual([
      {
        namespace: 'ns',
        body: {
          metadata: { generateName: 'web.x.', namespace: 'ns' },
          involvedObject: deploy,
          reason: 'R',
          type: 'Warning',
          message: 'm',
          source: { component: 'spiderpool-ts-operator' },
          firstTimestamp: new Date(5000),
          lastTimestamp: new Date(5000),
          count: 1,
        },
      },
    ]);
  });

  it('one Event per object and topic per interval; other topics and objects are not held back', async () => {
    const { core, posted } = fakeCore();
    let t = 0;
    const record = warningEventRecorder(core, log, { nameInfix: 'x', failureLog: 'f', everyMs: 1000, now: () => t, component: 'c' });
    const ev = (uid: string, topic: string) => ({ involvedObject: { ...deploy, uid }, reason: 'R', message: `${uid}:${topic}`, topic });
    record(ev('a', '1'));
    record(ev('a', '1'));
    t = 999;
    record(ev('a', '1'));
    record(ev('a', '2'));
    record(ev('b', '1'));
    t = 1000;
    record(ev('a', '1'));
    await settle();
    expect(posted.map((p) => p.body.message)).toEqual(['a:1', 'a:2', 'b:1', 'a:1']);
    expect(posted[0]!.body.source.component).toBe('c');
  });

  it('a failed post is logged with the object, never thrown', async () => {
    const core = { createNamespacedEvent: async () => Promise.reject(new Error('forbidden')) } as unknown as CoreV1Api;
    warningEventRecorder(core, log, { nameInfix: 'x', failureLog: 'could not post test event' })({ involvedObject: deploy, reason: 'R', message: 'm', topic: 't' });
    await new Promise((r) => setTimeout(r, 10));
    const line = logged.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'could not post test event');
    expect(line).toMatchObject({ level: 'warn', namespace: 'ns', name: 'web', error: 'forbidden' });
  });
});

describe('quotaEventRecorder', () => {
  const refused = { namespace: 'ns', pod: { namespace: 'ns', name: 'web-0', uid: 'p1' }, subnet: 's1', limit: 2, held: 2, message: 'quota of 2 reached' };

  it('an IPQuotaExceeded Event on the pod, one per pod and subnet per interval', async () => {
    const { core, posted } = fakeCore();
    let t = 0;
    const record = quotaEventRecorder(core, log, { everyMs: 1000, now: () => t });
    record(refused);
    record(refused);
    record({ ...refused, subnet: 's2' });
    t = 1000;
    record(refused);
    await settle();
    expect(posted).toHaveLength(3);
    expect(posted[0]).toMatchObject({
      namespace: 'ns',
      body: {
        metadata: { generateName: 'web-0.ipquota.' },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'web-0', uid: 'p1' },
        reason: QUOTA_EVENT_REASON,
        type: 'Warning',
        message: 'quota of 2 reached',
      },
    });
  });

  it('a failed post is logged', async () => {
    const core = { createNamespacedEvent: async () => Promise.reject(new Error('forbidden')) } as unknown as CoreV1Api;
    quotaEventRecorder(core, log)(refused);
    await new Promise((r) => setTimeout(r, 10));
    expect(logged.join('')).toContain('could not post quota event');
  });
});

describe('autoPoolEventRecorder', () => {
  it('an AutoPoolFailed Event on the workload, one per workload and message per interval', async () => {
    const { core, posted } = fakeCore();
    let t = 0;
    const record = autoPoolEventRecorder(core, log, { everyMs: 1000, now: () => t });
    record(deploy, 'subnet s1 not found');
    record(deploy, 'subnet s1 not found');
    record(deploy, 'subnet s1 has 0 free IPs');
    t = 1000;
    record(deploy, 'subnet s1 not found');
    await settle();
    expect(posted.map((p) => p.body.message)).toEqual(['subnet s1 not found', 'subnet s1 has 0 free IPs', 'subnet s1 not found']);
    expect(posted[0]).toMatchObject({
      namespace: 'ns',
      body: { metadata: { generateName: 'web.autopool.' }, involvedObject: deploy, reason: AUTO_POOL_EVENT_REASON, type: 'Warning', source: { component: 'spiderpool-ts-operator' } },
    });
  });

  it('a failed post is logged', async () => {
    const core = { createNamespacedEvent: async () => Promise.reject(new Error('forbidden')) } as unknown as CoreV1Api;
    autoPoolEventRecorder(core, log)(deploy, 'x');
    await new Promise((r) => setTimeout(r, 10));
    expect(logged.join('')).toContain('could not post auto pool event');
  });
});
