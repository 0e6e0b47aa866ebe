// The allocator service against the real kube-apiserver: group commit under 200 concurrent
// Allocates, CAS between two instances that both think they lead, idempotency, a stale DEL, and a
// restart that rebuilds from the IPAMBlocks. Real Pod objects; the service is called in-process.
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import type { AllocateRequest } from '../../../operator/src/rpc/gen/spiderpool_ts/ipam/v1/ipam.js';
import { IpamError } from '../../../operator/src/service/errors.js';
import { kubectl } from '../../support/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { createPods, createPool, type Env, type Instance, recordedAddresses, setUp, startInstance, tearDown } from './harness.js';

jest.setTimeout(180_000);

const tag = randomBytes(3).toString('hex');
const poolA = `alloc-a-${tag}`;
const poolB = `alloc-b-${tag}`;
let env: Env;
const instances: Instance[] = [];

const start = async (name: string) => {
  const i = await startInstance(env, name);
  instances.push(i);
  return i;
};

const req = (name: string, uid: string, containerId = `cid-${name}`): AllocateRequest => ({
  containerId,
  netns: '/var/run/netns/x',
  ifname: 'eth0',
  pod: { namespace: env.ns, name, uid },
  nodeName: env.node,
  defaultIpv4Ippool: [],
  defaultIpv6Ippool: [],
  requestId: `r-${name}`,
  networkName: 'macvlan',
});

const addressOf = (r: { ips: { address: string }[] }) => r.ips[0]!.address.split('/')[0]!;

beforeAll(async () => {
  env = await setUp('alloc');
  await createPool(poolA, '10.251.0.0/16', '10.251.7.0-10.251.7.255');
  await createPool(poolB, '10.252.0.0/16', '10.252.3.0-10.252.3.255', '10.252.0.1');
}, 10 * 60_000);

afterEach(async () => {
  await Promise.all(instances.splice(0).map((i) => i.stop()));
});

afterAll(async () => {
  if (env) await tearDown(env, [poolA, poolB]);
});

describe('allocator service', () => {
  it('200 concurrent Allocates on one pool of 256: distinct, recorded, group-committed; then idempotent, stale DEL refused, restart safe', async () => {
    const pods = await createPods(env, 'a', 200, poolA);
    const inst = await start('one');
    const results = await Promise.all([...pods].map(([name, uid]) => inst.service.allocate(req(name, uid))));
    const ips = results.map(addressOf);
    expect(new Set(ips).size).toBe(200);
    for (const r of results) expect(r.ips[0]).toMatchObject({ version: 4, pool: poolA });

    const recorded = await recordedAddresses(env, poolA);
    expect(recorded.size).toBe(200);
    const uidByName = pods;
    [...pods.keys()].forEach((name, i) => expect(recorded.get(ips[i]!)).toBe(uidByName.get(name)));
    const stats = inst.committer.stats();
    expect(stats.mutations).toBe(200);
    expect(stats.writes).toBeLessThan(50);

    // (c) same uid + ifname → same address, also from a new sandbox (container id recorded anew).
    const [name0, uid0] = [...pods][0]!;
    const again = await inst.service.allocate(req(name0, uid0, 'cid-new-sandbox'));
    expect(addressOf(again)).toBe(ips[0]);

    // (d) a late DEL of the old sandbox does not free what the new sandbox holds.
    await expect(inst.service.release({ containerId: `cid-${name0}`, ifname: 'eth0', pod: { namespace: env.ns, name: name0, uid: uid0 }, nodeName: env.node, ips: [], requestId: 'd', networkName: '' })).rejects.toMatchObject({
      reason: 'allocation-not-found',
    });
    expect((await recordedAddresses(env, poolA)).get(ips[0]!)).toBe(uid0);
    // The current sandbox's DEL keeps it while the pod lives on (a sandbox being recreated)...
    const delCurrent = () => inst.service.release({ containerId: 'cid-new-sandbox', ifname: 'eth0', pod: { namespace: env.ns, name: name0, uid: uid0 }, nodeName: env.node, ips: [], requestId: 'd2', networkName: '' });
    expect((await delCurrent()).released).toEqual([]);
    expect((await recordedAddresses(env, poolA)).get(ips[0]!)).toBe(uid0);
    // ...and frees it once the pod is being deleted (no kubelet here: it stays Terminating).
    await kubectl(['delete', 'pod', name0, '-n', env.ns, '--wait=false']);
    const rel = await waitFor(
      'the DEL to free the address of the terminating pod',
      async () => {
        const r = await delCurrent();
        return { ok: r.released.length > 0, value: r, detail: JSON.stringify(r) };
      },
      30_000,
      200,
    );
    expect(rel.released).toEqual([ips[0]]);
    expect((await recordedAddresses(env, poolA)).has(ips[0]!)).toBe(false);

    // (e) restart: a fresh instance rebuilt from the blocks hands out none of the 199 held addresses.
    await Promise.all(instances.splice(0).map((i) => i.stop()));
    const more = await createPods(env, 'a2', 40, poolA);
    const next = await start('restarted');
    const after = await Promise.all([...more].map(([name, uid]) => next.service.allocate(req(name, uid))));
    const held = await recordedAddresses(env, poolA);
    expect(held.size).toBe(239);
    const afterIPs = after.map(addressOf);
    expect(new Set([...ips.slice(1), ...afterIPs]).size).toBe(239);
    // And it still knows the old allocations: re-ADD of a pod allocated before the restart.
    const [name5, uid5] = [...pods][5]!;
    expect(addressOf(await next.service.allocate(req(name5, uid5)))).toBe(ips[5]);
  });

  it('two instances that both believe they lead never hand out one address twice (CAS)', async () => {
    const left = await createPods(env, 'l', 100, poolB);
    const right = await createPods(env, 'r', 100, poolB);
    const [x, y] = await Promise.all([start('x'), start('y')]);
    const results = await Promise.all([
      ...[...left].map(([name, uid]) => x.service.allocate(req(name, uid))),
      ...[...right].map(([name, uid]) => y.service.allocate(req(name, uid))),
    ]);
    const ips = results.map(addressOf);
    expect(new Set(ips).size).toBe(200);
    expect(ips).not.toContain('10.252.0.1');
    const recorded = await recordedAddresses(env, poolB);
    expect(recorded.size).toBe(200);
    expect(x.committer.stats().conflicts + y.committer.stats().conflicts).toBeGreaterThan(0);
    expect(results[0]!.routes).toEqual([{ dst: '0.0.0.0/0', gw: '10.252.0.1' }]);
  });

  it('refuses a caller that is not the pod node, an unknown pod and a wrong uid', async () => {
    const pods = await createPods(env, 'n', 1, poolA);
    const [name, uid] = [...pods][0]!;
    const inst = await start('refuse');
    const err = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as IpamError);
    const wrongNode = await err(inst.service.allocate({ ...req(name, uid), nodeName: 'other-node' }));
    expect(wrongNode).toBeInstanceOf(IpamError);
    expect(wrongNode).toMatchObject({ code: 9, reason: 'pod-not-on-node', metadata: { node: env.node } });
    expect(await err(inst.service.allocate(req('no-such-pod', 'u')))).toMatchObject({ code: 5, reason: 'pod-not-found' });
    expect(await err(inst.service.allocate(req(name, 'wrong-uid')))).toMatchObject({ code: 9, reason: 'pod-uid-mismatch', metadata: { uid } });
    expect(await err(inst.service.allocate({ ...req(name, uid), ifname: '' }))).toMatchObject({ code: 3, reason: 'invalid-argument', metadata: { field: 'ifname' } });
  });
});
