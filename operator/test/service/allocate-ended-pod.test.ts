// ADD for a pod that is being deleted or has finished is refused and records nothing (found by the
// chaos suite's add-deleted-pod scenario: a Terminating pod was given an address). Gone pods and
// stale UIDs were already refused; covered here too so the whole "deleted pod" family is in one place.
import { Writable } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import type { SpiderIPPool } from '../../src/api/v2beta1/types.js';
import { createLogger } from '../../src/framework/logger.js';
import type { AllocateRequest } from '../../src/rpc/gen/spiderpool_ts/ipam/v1/ipam.js';
import { AllocatorService } from '../../src/service/allocator-service.js';
import { BlockCommitter } from '../../src/service/block-committer.js';
import { rebuildState } from '../../src/service/rebuild.js';
import { MemoryBlockIO } from './memory-block-io.js';

const log = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });
const POOL: SpiderIPPool = { apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderIPPool', metadata: { name: 'p', uid: 'uid-p' }, spec: { subnet: '10.0.0.0/24', ips: ['10.0.0.10-10.0.0.20'] } };

const pod = (name: string, uid: string, extra: { deleting?: boolean; phase?: string } = {}): V1Pod => ({
  metadata: { namespace: 'ns', name, uid, annotations: { 'ipam.spidernet.io/ippool': JSON.stringify({ ipv4: ['p'] }) }, ...(extra.deleting ? { deletionTimestamp: new Date('2026-11-22T00:00:00Z') } : {}) },
  spec: { nodeName: 'n1', containers: [] },
  ...(extra.phase ? { status: { phase: extra.phase } } : {}),
});

const req = (name: string, uid: string): AllocateRequest => ({ containerId: `c-${name}`, netns: '', ifname: 'eth0', pod: { namespace: 'ns', name, uid }, nodeName: 'n1', defaultIpv4Ippool: [], defaultIpv6Ippool: [], requestId: '', networkName: 'net' });

async function setup() {
  const io = new MemoryBlockIO();
  const committer = new BlockCommitter(io, { sleep: async () => {} });
  const pods = new Map<string, V1Pod>();
  const service = new AllocatorService({
    committer,
    cluster: { pod: async (_ns, name) => pods.get(name), namespace: () => undefined, nodeLabels: () => ({}), pools: () => [POOL], statefulSetReplicas: async () => undefined },
    selection: { enableIPv4: true, enableIPv6: true, multusNamespace: 'kube-system' },
    log,
    now: () => new Date('2026-11-22T00:00:00Z'),
  });
  service.setState(await rebuildState(io, committer, [POOL], [], log));
  const records = () => [...io.blocks.values()].reduce((n, b) => n + Object.keys(b.spec.allocations ?? {}).length, 0);
  return { service, pods, records };
}

describe('ADD for a deleted pod', () => {
  it('refuses a Terminating pod (pod-terminating) and records nothing', async () => {
    const { service, pods, records } = await setup();
    pods.set('a', pod('a', 'ua', { deleting: true }));
    await expect(service.allocate(req('a', 'ua'))).rejects.toMatchObject({ code: 9, reason: 'pod-terminating' });
    expect(records()).toBe(0);
  });

  it.each(['Succeeded', 'Failed'])('refuses a finished pod (%s: pod-terminated) and records nothing', async (phase) => {
    const { service, pods, records } = await setup();
    pods.set('a', pod('a', 'ua', { phase }));
    await expect(service.allocate(req('a', 'ua'))).rejects.toMatchObject({ code: 9, reason: 'pod-terminated' });
    expect(records()).toBe(0);
  });

  it('refuses a pod that is gone, or a stale uid of a reused name', async () => {
    const { service, pods, records } = await setup();
    await expect(service.allocate(req('gone', 'u1'))).rejects.toMatchObject({ code: 5, reason: 'pod-not-found' });
    pods.set('b', pod('b', 'new'));
    await expect(service.allocate(req('b', 'old'))).rejects.toMatchObject({ code: 9, reason: 'pod-uid-mismatch' });
    expect(records()).toBe(0);
  });

  it('still allocates for a live pod, and refuses its repeated ADD once it is being deleted', async () => {
    const { service, pods, records } = await setup();
    pods.set('a', pod('a', 'ua'));
    expect((await service.allocate(req('a', 'ua'))).ips.map((i) => i.address)).toEqual(['10.0.0.10/24']);
    pods.set('a', pod('a', 'ua', { deleting: true }));
    await expect(service.allocate(req('a', 'ua'))).rejects.toMatchObject({ reason: 'pod-terminating' });
    expect(records()).toBe(1); // its DEL (or the GC) releases it
  });
});
