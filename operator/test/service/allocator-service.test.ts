// AllocatorService rules over an in-memory block store with the apiserver's CAS semantics: dual-stack
// all-or-nothing, StatefulSet identity, stale same-name records, CHECK, GC grace, readiness.
import { Writable } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import { blockEntries } from '../../src/api/internal/ipamblock.js';
import type { SpiderIPPool } from '../../src/api/v2beta1/types.js';
import { createLogger } from '../../src/framework/logger.js';
import type { AllocateRequest } from '../../src/rpc/gen/spiderpool_ts/ipam/v1/ipam.js';
import { AllocatorService } from '../../src/service/allocator-service.js';
import { BlockCommitter } from '../../src/service/block-committer.js';
import { rebuildState } from '../../src/service/rebuild.js';
import { MemoryBlockIO } from './memory-block-io.js';

const log = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });

const pool = (name: string, subnet: string, ips: string[], gateway?: string): SpiderIPPool => ({
  apiVersion: 'spiderpool.spidernet.io/v2beta1',
  kind: 'SpiderIPPool',
  metadata: { name, uid: `uid-${name}` },
  spec: { subnet, ips, ...(gateway ? { gateway } : {}) },
});

const pod = (name: string, uid: string, annotation: object, owner?: { kind: string; name: string }): V1Pod => ({
  metadata: {
    namespace: 'ns',
    name,
    uid,
    annotations: { 'ipam.spidernet.io/ippool': JSON.stringify(annotation) },
    ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: 'o', controller: true }] } : {}),
  },
  spec: { nodeName: 'n1', containers: [] },
});

const terminating = (p: V1Pod): V1Pod => ({ ...p, metadata: { ...p.metadata, deletionTimestamp: new Date('2026-11-21T19:00:00Z') } });

async function setup(pools: SpiderIPPool[], now = () => new Date('2026-11-21T19:00:00Z'), stsReplicas = new Map<string, number>()) {
  const io = new MemoryBlockIO();
  const committer = new BlockCommitter(io, { sleep: async () => {} });
  const pods = new Map<string, V1Pod>();
  const service = new AllocatorService({
    committer,
    cluster: { pod: async (_ns, name) => pods.get(name), namespace: () => undefined, nodeLabels: (n) => (n === 'n1' ? { zone: 'a' } : undefined), pools: () => pools, statefulSetReplicas: async (_ns, name) => stsReplicas.get(name) },
    selection: { enableIPv4: true, enableIPv6: true, multusNamespace: 'kube-system' },
    log,
    now,
  });
  const restart = async () => service.setState(await rebuildState(io, committer, pools, [], log));
  await restart();
  return { io, service, pods, restart };
}

const req = (name: string, uid: string, cid = `c-${name}`): AllocateRequest => ({
  containerId: cid,
  netns: '',
  ifname: 'eth0',
  pod: { namespace: 'ns', name, uid },
  nodeName: 'n1',
  defaultIpv4Ippool: [],
  defaultIpv6Ippool: [],
  requestId: '',
  networkName: 'net',
});

const recorded = (io: MemoryBlockIO) =>
  [...io.blocks.values()].flatMap((b) =>
    blockEntries(b).map(({ offset, entry }) => {
      if (entry instanceof Error) throw entry;
      return { block: b.spec.cidr, offset, entry };
    }),
  );

describe('AllocatorService', () => {
  it('is not ready until it has state', async () => {
    const { service } = await setup([]);
    service.setState(undefined, 'rebuilding');
    expect(service.status()).toEqual({ ready: false, message: 'rebuilding' });
    await expect(service.allocate(req('p', 'u'))).rejects.toMatchObject({ code: 14, reason: 'not-ready' });
  });

  it('answers not-ready, not exhausted, for a pool the allocator has not loaded yet', async () => {
    const pools = [pool('p', '10.0.0.0/24', ['10.0.0.10'])];
    const { service, pods } = await setup(pools);
    pools.push(pool('fresh', '10.0.1.0/24', ['10.0.1.10']));
    pods.set('a', pod('a', 'ua', { ipv4: ['fresh'] }));
    await expect(service.allocate(req('a', 'ua'))).rejects.toMatchObject({ code: 14, reason: 'not-ready' });
  });

  it('gives one address per family and rolls back the first when the second family is exhausted', async () => {
    const { io, service, pods } = await setup([pool('v4', '10.0.0.0/24', ['10.0.0.10-10.0.0.11'], '10.0.0.1'), pool('v6', 'fd00::/64', ['fd00::10'])]);
    pods.set('a', pod('a', 'ua', { ipv4: ['v4'], ipv6: ['v6'] }));
    pods.set('b', pod('b', 'ub', { ipv4: ['v4'], ipv6: ['v6'] }));
    const a = await service.allocate(req('a', 'ua'));
    expect(a.ips.map((i) => i.address)).toEqual(['10.0.0.10/24', 'fd00::10/64']);
    expect(a.routes).toEqual([{ dst: '0.0.0.0/0', gw: '10.0.0.1' }]);
    await expect(service.allocate(req('b', 'ub'))).rejects.toMatchObject({ code: 8, reason: 'pool-exhausted', metadata: { pool: 'v6' } });
    // b's IPv4 address went back: only a's two records remain, and the v4 address is free again.
    expect(recorded(io).map((r) => r.entry.uid)).toEqual(['ua', 'ua']);
    expect(service.poolState!.counts('v4')).toMatchObject({ allocated: 1 });
  });

  it('hands a recreated StatefulSet pod its predecessor address, and never a recreated Deployment pod', async () => {
    const { io, service, pods } = await setup([pool('p', '10.0.0.0/24', ['10.0.0.10-10.0.0.20'])]);
    pods.set('web-0', pod('web-0', 'u1', { ipv4: ['p'] }, { kind: 'StatefulSet', name: 'web' }));
    const first = await service.allocate(req('web-0', 'u1'));
    pods.set('web-0', pod('web-0', 'u2', { ipv4: ['p'] }, { kind: 'StatefulSet', name: 'web' }));
    const second = await service.allocate(req('web-0', 'u2'));
    expect(second.ips[0]!.address).toBe(first.ips[0]!.address);
    expect(recorded(io).map((r) => r.entry.uid)).toEqual(['u2']);

    pods.set('job-x', pod('job-x', 'j1', { ipv4: ['p'] }, { kind: 'Job', name: 'job' }));
    const j1 = await service.allocate(req('job-x', 'j1'));
    pods.set('job-x', pod('job-x', 'j2', { ipv4: ['p'] }, { kind: 'Job', name: 'job' }));
    const j2 = await service.allocate(req('job-x', 'j2'));
    expect(j2.ips[0]!.address).not.toBe(j1.ips[0]!.address);
    // The predecessor's stale record was released, not leaked.
    expect(recorded(io).filter((r) => r.entry.pod === 'ns/job-x').map((r) => r.entry.uid)).toEqual(['j2']);
  });

  it('matches pool nodeAffinity against the calling node labels', async () => {
    const affine = { ...pool('za', '10.0.0.0/24', ['10.0.0.10']), spec: { subnet: '10.0.0.0/24', ips: ['10.0.0.10'], nodeAffinity: { matchLabels: { zone: 'a' } } } };
    const other = { ...pool('zb', '10.0.1.0/24', ['10.0.1.10']), spec: { subnet: '10.0.1.0/24', ips: ['10.0.1.10'], nodeAffinity: { matchLabels: { zone: 'b' } } } };
    const { service, pods } = await setup([affine, other]);
    pods.set('a', pod('a', 'ua', { ipv4: ['zb', 'za'] }));
    expect((await service.allocate(req('a', 'ua'))).ips.map((i) => i.pool)).toEqual(['za']);
  });

  it('releases only the prevResult addresses, in any spelling', async () => {
    const { service, pods } = await setup([pool('v6', 'fd00::/64', ['fd00::a-fd00::f'])]);
    pods.set('a', pod('a', 'ua', { ipv6: ['v6'] }));
    await service.allocate(req('a', 'ua'));
    const del = (ips: string[]) => service.release({ containerId: 'c-a', ifname: 'eth0', pod: { namespace: 'ns', name: 'a', uid: 'ua' }, nodeName: 'n1', ips, requestId: '', networkName: '' });
    await expect(del(['fd00::b/64'])).rejects.toMatchObject({ code: 5, reason: 'allocation-not-found' });
    await expect(del(['nonsense'])).rejects.toMatchObject({ code: 3, reason: 'invalid-argument', metadata: { field: 'ips[0]' } });
    pods.set('a', terminating(pods.get('a')!));
    expect(await del(['FD00:0:0::000a/64'])).toEqual({ released: ['fd00::a'] });
  });

  it('keeps the addresses on a DEL of a live pod\'s dead sandbox (node reboot) and gives them back to its next ADD', async () => {
    const { service, pods } = await setup([pool('p', '10.0.0.0/24', ['10.0.0.10-10.0.0.20'])]);
    pods.set('a', pod('a', 'ua', { ipv4: ['p'] }));
    const first = await service.allocate(req('a', 'ua', 'sandbox-1'));
    const del = (cid: string) => service.release({ containerId: cid, ifname: 'eth0', pod: { namespace: 'ns', name: 'a', uid: 'ua' }, nodeName: 'n1', ips: [], requestId: '', networkName: '' });
    expect(await del('sandbox-1')).toEqual({ released: [] });
    const second = await service.allocate(req('a', 'ua', 'sandbox-2'));
    expect(second.ips).toEqual(first.ips);
    // Once the pod is being deleted, its DEL frees the address.
    pods.set('a', terminating(pods.get('a')!));
    expect(await del('sandbox-2')).toEqual({ released: ['10.0.0.10'] });
  });

  it('frees on DEL when the pod finished (Succeeded/Failed): no sandbox will come back', async () => {
    const { service, pods } = await setup([pool('p', '10.0.0.0/24', ['10.0.0.10-10.0.0.20'])]);
    pods.set('a', pod('a', 'ua', { ipv4: ['p'] }));
    await service.allocate(req('a', 'ua'));
    pods.set('a', { ...pods.get('a')!, status: { phase: 'Succeeded' } });
    expect(await service.release({ containerId: 'c-a', ifname: 'eth0', pod: { namespace: 'ns', name: 'a', uid: 'ua' }, nodeName: 'n1', ips: [], requestId: '', networkName: '' })).toEqual({
      released: ['10.0.0.10'],
    });
  });

  it('answers CHECK for the current sandbox only, and survives a restart', async () => {
    const { service, pods, restart } = await setup([pool('p', '10.0.0.0/24', ['10.0.0.10-10.0.0.20'])]);
    pods.set('a', pod('a', 'ua', { ipv4: ['p'] }));
    await service.allocate(req('a', 'ua', 'old'));
    await service.allocate(req('a', 'ua', 'new'));
    await restart();
    const check = (cid: string) => service.check({ containerId: cid, ifname: 'eth0', pod: { namespace: 'ns', name: 'a', uid: 'ua' }, nodeName: 'n1', requestId: '' });
    await expect(check('old')).rejects.toMatchObject({ code: 5, reason: 'allocation-not-found' });
    expect((await check('new')).ips.map((i) => i.address)).toEqual(['10.0.0.10/24']);
  });

  it('releases the records of a deleted pod, but not of a live one nor a StatefulSet pod that comes back', async () => {
    const replicas = new Map([['web', 1]]);
    const { io, service, pods } = await setup([pool('p', '10.0.0.0/24', ['10.0.0.10-10.0.0.20'])], undefined, replicas);
    pods.set('a', pod('a', 'ua', { ipv4: ['p'] }));
    pods.set('web-0', pod('web-0', 'uw', { ipv4: ['p'] }, { kind: 'StatefulSet', name: 'web' }));
    await service.allocate(req('a', 'ua'));
    await service.allocate(req('web-0', 'uw'));
    expect(await service.releaseDeletedPod('ns', 'a')).toEqual([]);
    pods.delete('a');
    pods.delete('web-0');
    expect(await service.releaseDeletedPod('ns', 'a')).toEqual(['10.0.0.10']);
    expect(await service.releaseDeletedPod('ns', 'web-0')).toEqual([]);
    expect(recorded(io).map((r) => r.entry.pod)).toEqual(['ns/web-0']);
    // Scaled to 0: no successor, the address is freed.
    replicas.set('web', 0);
    expect(await service.releaseDeletedPod('ns', 'web-0')).toEqual(['10.0.0.11']);
    expect(recorded(io)).toEqual([]);
  });

  it('GC releases what is not a valid attachment once older than the grace period', async () => {
    let now = new Date('2026-11-21T19:00:00Z');
    const { io, service, pods } = await setup([pool('p', '10.0.0.0/24', ['10.0.0.10-10.0.0.20'])], () => now);
    for (const n of ['a', 'b']) {
      pods.set(n, pod(n, `u${n}`, { ipv4: ['p'] }));
      await service.allocate(req(n, `u${n}`));
    }
    const gc = () => service.gc({ nodeName: 'n1', networkName: 'net', validAttachments: [{ containerId: 'c-a', ifname: 'eth0' }], requestId: '' });
    expect(await gc()).toEqual({ released: [] });
    now = new Date('2026-11-21T19:05:00Z');
    expect(await service.gc({ nodeName: 'n1', networkName: 'other-net', validAttachments: [], requestId: '' })).toEqual({ released: [] });
    expect(await gc()).toEqual({ released: [{ containerId: 'c-b', ifname: 'eth0' }] });
    expect(recorded(io).map((r) => r.entry.uid)).toEqual(['ua']);
  });
});
