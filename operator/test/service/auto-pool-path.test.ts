// The ADD path with auto pools: the pod's application (top controller with uid) picks its auto pool;
// an ADD that raced ahead of the pool waits for pool changes a bounded time, then answers "try
// again" (UNAVAILABLE → CNI code 11); StatefulSet records follow spec.ordinals.start.
import { Writable } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import type { SpiderIPPool } from '../../src/api/v2beta1/types.js';
import type { Application } from '../../src/core/workload/index.js';
import { autoPoolLabels, autoPoolPodAffinity } from '../../src/core/workload/index.js';
import { createLogger } from '../../src/framework/logger.js';
import type { AllocateRequest } from '../../src/rpc/gen/spiderpool_ts/ipam/v1/ipam.js';
import { AllocatorService, type ClusterView } from '../../src/service/allocator-service.js';
import { BlockCommitter } from '../../src/service/block-committer.js';
import { rebuildState } from '../../src/service/rebuild.js';
import { MemoryBlockIO } from './memory-block-io.js';

const log = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });
const app: Application = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: 'web', uid: 'dep-uid-abcdef' };

const autoPool = (a: Application, ips: string[]): SpiderIPPool => ({
  apiVersion: 'spiderpool.spidernet.io/v2beta1',
  kind: 'SpiderIPPool',
  metadata: { name: `auto4-${a.name}-eth0-abcde`, uid: `uid-${a.name}`, labels: autoPoolLabels({ subnetName: 'sub', app: a, ifName: 'eth0', ipVersion: 4, reclaim: true, subnetCIDR: '10.0.0.0/24' }) },
  spec: { ipVersion: 4, subnet: '10.0.0.0/24', ips, podAffinity: autoPoolPodAffinity(a) },
});

const pod = (name: string, uid: string, owner: { kind: string; name: string }): V1Pod => ({
  metadata: {
    namespace: 'ns',
    name,
    uid,
    annotations: { 'ipam.spidernet.io/subnet': '{"ipv4":["sub"]}' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: 'owner-uid', controller: true }],
  },
  spec: { nodeName: 'n1', containers: [] },
});

const req = (name: string, uid: string): AllocateRequest => ({
  containerId: `c-${name}`,
  netns: '',
  ifname: 'eth0',
  pod: { namespace: 'ns', name, uid },
  nodeName: 'n1',
  defaultIpv4Ippool: [],
  defaultIpv6Ippool: [],
  requestId: '',
  networkName: '',
});

async function setup(opts: { app?: Application; sts?: { start: number; replicas: number }; keepScaledDown?: boolean } = {}) {
  const io = new MemoryBlockIO();
  const committer = new BlockCommitter(io, { sleep: async () => {} });
  const pods = new Map<string, V1Pod>();
  const pools: SpiderIPPool[] = [];
  const waiters = new Set<() => void>();
  const cluster: ClusterView = {
    pod: async (_ns, name) => pods.get(name),
    namespace: () => undefined,
    nodeLabels: () => ({}),
    pools: () => pools,
    statefulSetReplicas: async () => opts.sts?.replicas,
    statefulSetOrdinals: async () => opts.sts,
    application: async (p) => opts.app ?? { apiVersion: 'apps/v1', kind: p.metadata!.ownerReferences![0]!.kind, namespace: 'ns', name: p.metadata!.ownerReferences![0]!.name, uid: 'sts-uid' },
    poolsChanged: (ms) =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, ms);
        waiters.add(done);
      }),
  };
  const service = new AllocatorService({ committer, cluster, selection: { enableIPv4: true, enableIPv6: true, multusNamespace: 'kube-system', enableAutoPool: true }, log, ...(opts.keepScaledDown ? { statefulSetKeepScaledDown: true } : {}) });
  service.setState(await rebuildState(io, committer, pools, [], log));
  /** A pool appears: in the cache (wakes waiting ADDs) and, as the allocator-term controller does, in the allocator. */
  const addPool = (p: SpiderIPPool) => {
    pools.push(p);
    service.poolState!.upsertPool(p, []);
    for (const w of [...waiters]) w();
  };
  return { service, pods, addPool };
}

describe('ADD with auto pools', () => {
  it('allocates from the auto pool of the pod application', async () => {
    const { service, pods, addPool } = await setup({ app });
    addPool(autoPool(app, ['10.0.0.10-10.0.0.12']));
    addPool(autoPool({ ...app, name: 'other', uid: 'x-other' }, ['10.0.0.20']));
    pods.set('web-1', pod('web-1', 'u1', { kind: 'ReplicaSet', name: 'web-rs' }));
    const r = await service.allocate(req('web-1', 'u1'));
    expect(r.ips.map((i) => [i.address, i.pool])).toEqual([['10.0.0.10/24', 'auto4-web-eth0-abcde']]);
  });

  it('waits for an auto pool created moments after the pod asked', async () => {
    const { service, pods, addPool } = await setup({ app });
    pods.set('web-1', pod('web-1', 'u1', { kind: 'ReplicaSet', name: 'web-rs' }));
    const pending = service.allocate(req('web-1', 'u1'));
    setTimeout(() => addPool(autoPool(app, ['10.0.0.10'])), 100);
    expect((await pending).ips[0]!.address).toBe('10.0.0.10/24');
  });

  it('answers try-again (UNAVAILABLE) when the auto pool does not come within the bound', async () => {
    const { service, pods } = await setup({ app });
    pods.set('web-1', pod('web-1', 'u1', { kind: 'ReplicaSet', name: 'web-rs' }));
    const started = Date.now();
    await expect(service.allocate(req('web-1', 'u1'))).rejects.toMatchObject({ code: 14, message: expect.stringMatching(/auto pool of Deployment ns\/web .* does not exist yet/) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
  });

  it('keeps a deleted StatefulSet pod record while its ordinal is in [start, start+replicas), with spec.ordinals.start', async () => {
    const stsApp: Application = { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: 'ns', name: 'db', uid: 'sts-uid' };
    const { service, pods, addPool } = await setup({ app: stsApp, sts: { start: 3, replicas: 2 } });
    addPool(autoPool(stsApp, ['10.0.0.10-10.0.0.15']));
    for (const o of [3, 4, 5]) {
      pods.set(`db-${o}`, pod(`db-${o}`, `u${o}`, { kind: 'StatefulSet', name: 'db' }));
      await service.allocate(req(`db-${o}`, `u${o}`));
    }
    for (const o of [3, 4, 5]) pods.delete(`db-${o}`);
    expect(await service.releaseDeletedPod('ns', 'db-3')).toEqual([]);
    expect(await service.releaseDeletedPod('ns', 'db-4')).toEqual([]);
    expect(await service.releaseDeletedPod('ns', 'db-5')).toEqual(['10.0.0.12']);
    // The recreated db-3 gets its address back.
    pods.set('db-3', pod('db-3', 'u3b', { kind: 'StatefulSet', name: 'db' }));
    expect((await service.allocate(req('db-3', 'u3b'))).ips[0]!.address).toBe('10.0.0.10/24');
  });

  it('with statefulSetKeepScaledDown, a scaled-away ordinal keeps its address for the scale-up', async () => {
    const stsApp: Application = { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: 'ns', name: 'db', uid: 'sts-uid' };
    const { service, pods, addPool } = await setup({ app: stsApp, sts: { start: 0, replicas: 1 }, keepScaledDown: true });
    addPool(autoPool(stsApp, ['10.0.0.10-10.0.0.15']));
    pods.set('db-3', pod('db-3', 'u3', { kind: 'StatefulSet', name: 'db' }));
    const first = await service.allocate(req('db-3', 'u3'));
    pods.delete('db-3');
    expect(await service.releaseDeletedPod('ns', 'db-3')).toEqual([]);
    pods.set('db-3', pod('db-3', 'u3b', { kind: 'StatefulSet', name: 'db' }));
    expect((await service.allocate(req('db-3', 'u3b'))).ips[0]!.address).toBe(first.ips[0]!.address);
  });
});
