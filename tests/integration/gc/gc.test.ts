// The IP garbage collector against the real apiserver (docs/design/gc.md): real Pod objects bound to
// Node objects no kubelet serves, records in real IPAMBlocks, the GC wired as operator.ts wires it.
// Each case of the design: DEL lost, Terminating on a NotReady / Ready node (both switches), finished
// pods, StatefulSet identities, a name taken by another UID, dry-run, the resync after a release made
// outside the leader — and a stale release racing a new allocation of the same address.
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { kubectl } from '../../support/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { createPool, type Env, recordedAddresses, setUp, tearDown } from '../allocator/harness.js';
import { allocateReq, createPod, getPod, podUid, setNodeReady, startGc } from './gc-env.js';

jest.setTimeout(240_000);

const hex = randomBytes(3).toString('hex');
const pool = `gc-${hex}`;
const onePool = `gc-one-${hex}`;
const rsPool = `gc-rs-${hex}`;
let env: Env;

beforeAll(async () => {
  env = await setUp('gc');
  await createPool(pool, '10.231.0.0/16', '10.231.1.1-10.231.1.200');
  await createPool(onePool, '10.231.0.0/16', '10.231.2.1-10.231.2.1');
  await createPool(rsPool, '10.231.0.0/16', '10.231.3.1-10.231.3.1');
}, 10 * 60_000);

afterAll(async () => {
  if (env) await tearDown(env, [pool, onePool, rsPool]);
});

/** The ip → pod uid records of `p`. */
const records = (p = pool) => recordedAddresses(env, p);
const holds = async (uid: string, p = pool) => [...(await records(p)).values()].includes(uid);
const forceDelete = (name: string) => kubectl(['delete', 'pod', '-n', env.ns, name, '--grace-period=0', '--force', '--ignore-not-found']);

it('releases within seconds what a deleted pod, a finished pod and a pod Terminating past its grace on a NotReady node hold; keeps the rest', async () => {
  const readyNode = `${env.node}-ready`;
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: readyNode, labels: { 'spiderpool-ts.io/test': 'gc' } } }) });
  const stack = await startGc(env, 'events', { policy: { terminatingOnReadyNode: false, terminatingOnNotReadyNode: true, additionalGraceDelayMs: 4000 } });
  try {
    await setNodeReady(readyNode, true);
    const uids = new Map<string, string>();
    for (const name of ['del-0', 'fin-0', 'term-0', 'live-0']) uids.set(name, await createPod(env, name, env.node, pool));
    uids.set('term-1', await createPod(env, 'term-1', readyNode, pool));
    for (const [name, uid] of uids) {
      const req = allocateReq(env, name, uid);
      await stack.inst.service.allocate({ ...req, nodeName: name === 'term-1' ? readyNode : env.node });
    }
    expect([...(await records()).values()].sort()).toEqual([...uids.values()].sort());

    // DEL lost: the pod object is gone for good (force-deleted, as for a node that is gone)
    const t0 = Date.now();
    await forceDelete('del-0');
    await waitFor('the record of the deleted pod released', async () => ({ ok: !(await holds(uids.get('del-0')!)), detail: 'still held' }), 20_000, 100);
    const deletedMs = Date.now() - t0;

    // a pod that finished (its containers exited; the kubelet's DEL never came)
    await kubectl(['patch', 'pod', '-n', env.ns, 'fin-0', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Failed' } })]);
    await waitFor('the record of the finished pod released', async () => ({ ok: !(await holds(uids.get('fin-0')!)), detail: 'still held' }), 20_000, 100);

    // Terminating: no kubelet ever confirms the deletion, so the pods stay Terminating
    await kubectl(['delete', 'pod', '-n', env.ns, 'term-0', 'term-1', '--grace-period=10', '--wait=false']);
    const term0 = await getPod(env, 'term-0');
    const deletionMs = Date.parse(String(term0?.metadata?.deletionTimestamp));
    expect(Number.isFinite(deletionMs)).toBe(true);
    // well before deletionTimestamp (+10 s) + 4 s: both kept
    expect(await holds(uids.get('term-0')!)).toBe(true);
    expect(await holds(uids.get('term-1')!)).toBe(true);
    await waitFor('the record of the pod Terminating on the NotReady node released', async () => ({ ok: !(await holds(uids.get('term-0')!)), detail: 'still held' }), 60_000, 200);
    const goneAt = Date.now();
    // Whoever released it waited for the deletion grace period: deletionTimestamp has whole seconds.
    expect(goneAt).toBeGreaterThanOrEqual(deletionMs - 1000);
    // Another operator running on this shared cluster (other tests) may get there first with its
    // default policy (no additional delay); the reason and delay are checked when ours did it.
    const rel = stack.gc.recent().find((r) => r.uid === uids.get('term-0'));
    if (rel !== undefined) {
      expect(rel.reason).toBe('terminating-on-not-ready-node');
      expect(Date.parse(rel.at)).toBeGreaterThanOrEqual(deletionMs + 4000);
    } else {
      process.stdout.write('gc: term-0 was released by another operator on the shared cluster\n');
    }
    // the same deadline has passed for term-1, whose Ready node's switch is off here: ours keeps it
    const t1 = await stack.gc.collect(`${env.ns}/term-1`);
    if (await holds(uids.get('term-1')!)) {
      expect(t1.decisions.map((d) => d.decision)).toEqual([{ action: 'keep', reason: 'terminating-gc-disabled' }]);
    }
    expect(await holds(uids.get('live-0')!)).toBe(true);
    // ours released nothing else, each with its reason
    for (const r of stack.gc.recent()) expect([`del-0 pod-deleted`, `fin-0 pod-finished`, `term-0 terminating-on-not-ready-node`]).toContain(`${r.name} ${r.reason}`);
    process.stdout.write(`gc: deleted pod's record released ${deletedMs} ms after the force delete\n`);
  } finally {
    await stack.stop();
    await kubectl(['delete', 'node', readyNode, '--ignore-not-found']);
    await forceDelete('term-0');
    await forceDelete('term-1');
  }
});

it('keeps a StatefulSet identity for the recreated pod, and frees it after a scale-down', async () => {
  const sts = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: env.ns },
    spec: {
      replicas: 2,
      serviceName: 'web',
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' }, annotations: { 'ipam.spidernet.io/ippool': JSON.stringify({ ipv4: [pool] }) } },
        spec: { nodeName: env.node, tolerations: [{ operator: 'Exists' }], automountServiceAccountToken: false, containers: [{ name: 'c', image: 'registry.invalid/pause:1' }] },
      },
    },
  };
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(sts) });
  const stack = await startGc(env, 'sts', { runController: false });
  try {
    const uidOf = (name: string) => waitFor(`pod ${name}`, async () => {
      const uid = await podUid(env, name);
      return { ok: uid !== undefined, value: uid!, detail: 'not created yet' };
    }, 60_000, 200);
    const [u0, u1] = [await uidOf('web-0'), await uidOf('web-1')];
    await waitFor('the pods in the informer', async () => ({ ok: stack.inst.pods.get(`${env.ns}/web-1`) !== undefined, detail: '' }), 20_000, 100);
    const a0 = await stack.inst.service.allocate(allocateReq(env, 'web-0', u0));
    const a1 = await stack.inst.service.allocate(allocateReq(env, 'web-1', u1));

    // the pod object is deleted; the StatefulSet controller makes a new web-1 (new UID)
    await forceDelete('web-1');
    const u1b = await waitFor('web-1 recreated', async () => {
      const uid = await podUid(env, 'web-1');
      return { ok: uid !== undefined && uid !== u1, value: uid!, detail: String(uid) };
    }, 60_000, 200);
    const kept = await stack.gc.collect(`${env.ns}/web-1`);
    expect(kept.decisions.map((d) => d.decision)).toEqual([{ action: 'keep', reason: 'statefulset-identity' }]);
    expect(await holds(u1)).toBe(true);
    // ... and its ADD gets the same address back
    const again = await stack.inst.service.allocate(allocateReq(env, 'web-1', u1b));
    expect(again.ips[0]!.address).toBe(a1.ips[0]!.address);

    // scaled down: web-1 is beyond the replicas (the controller deletes it; no kubelet: we finish it)
    await kubectl(['scale', 'statefulset', '-n', env.ns, 'web', '--replicas=1']);
    await waitFor('web-1 marked for deletion', async () => ({ ok: (await getPod(env, 'web-1'))?.metadata?.deletionTimestamp !== undefined, detail: '' }), 60_000, 200);
    await forceDelete('web-1');
    const freed = await stack.gc.collect(`${env.ns}/web-1`);
    expect(freed.decisions.map((d) => [d.decision, d.released])).toEqual([[{ action: 'release', reason: 'pod-deleted' }, true]]);
    expect(await holds(u1b)).toBe(false);
    expect((await stack.gc.collect(`${env.ns}/web-0`)).decisions.map((d) => d.decision.reason)).toEqual(['pod-alive']);
    expect(await holds(u0)).toBe(true);
    expect(a0.ips).toHaveLength(1);
  } finally {
    await stack.stop();
    await kubectl(['delete', 'statefulset', '-n', env.ns, 'web', '--ignore-not-found', '--wait=false']);
  }
});

it('releases a record whose pod name now belongs to another UID; dry-run only lists', async () => {
  const stack = await startGc(env, 'uid', { runController: false });
  let dry: Awaited<ReturnType<typeof startGc>> | undefined;
  try {
    const old = await createPod(env, 'u-0', env.node, pool);
    await stack.inst.service.allocate(allocateReq(env, 'u-0', old));
    // a second GC in dry-run mode, its state rebuilt from the blocks as they are now
    dry = await startGc(env, 'dry', { runController: false, dryRun: true });
    await forceDelete('u-0');
    const fresh = await createPod(env, 'u-0', env.node, pool);
    expect(fresh).not.toBe(old);

    const listed = await dry.gc.collect(`${env.ns}/u-0`);
    expect(listed.decisions.map((d) => [d.decision, d.released])).toEqual([[{ action: 'release', reason: 'uid-mismatch' }, false]]);
    expect(dry.gc.recent().map((r) => [r.name, r.uid, r.reason])).toEqual([['u-0', old, 'uid-mismatch']]);
    expect(await holds(old)).toBe(true);

    const done = await stack.gc.collect(`${env.ns}/u-0`);
    expect(done.decisions.map((d) => [d.decision, d.released])).toEqual([[{ action: 'release', reason: 'uid-mismatch' }, true]]);
    expect(await holds(old)).toBe(false);
  } finally {
    await dry?.stop();
    await stack.stop();
  }
});

it('a release decided on stale data never frees the address once it went to a new pod', async () => {
  const stack = await startGc(env, 'race', { runController: false });
  const { service } = stack.inst;
  try {
    const names = Array.from({ length: 9 }, (_, i) => `r-${i}`);
    const uids = new Map<string, string>();
    for (const n of names) uids.set(n, await createPod(env, n, env.node, onePool));
    await waitFor('the pods in the informer', async () => ({ ok: names.every((n) => stack.inst.pods.get(`${env.ns}/${n}`)), detail: '' }), 20_000, 100);

    // r-0 holds the pool's only address; the GC reads its record (uid, seq)
    const got = await service.allocate(allocateReq(env, 'r-0', uids.get('r-0')!));
    const ip = got.ips[0]!.address.split('/')[0]!;
    const stale = { ...service.poolState!.get(onePool, ip)! };
    // meanwhile the record goes (its CNI DEL, a first GC pass) and the address is given to r-1
    await forceDelete('r-0');
    expect(await service.releaseRecord(stale)).toBe(true);
    const next = await service.allocate(allocateReq(env, 'r-1', uids.get('r-1')!));
    expect(next.ips[0]!.address.split('/')[0]).toBe(ip);
    // the GC's late release names (uid, seq) of r-0: refused in the block write
    expect(await service.releaseRecord(stale)).toBe(false);
    expect((await records(onePool)).get(ip)).toBe(uids.get('r-1'));
    // and a full collect of the old name finds nothing to do
    expect((await stack.gc.collect(`${env.ns}/r-0`)).decisions).toEqual([]);

    // the same race with everything in flight at once: two stale releases of the holder and the next
    // pod's allocation retrying until the address is free
    for (let i = 1; i < names.length - 1; i++) {
      const holder = names[i]!;
      const nextPod = names[i + 1]!;
      const held = { ...service.poolState!.get(onePool, ip)! };
      expect(held.entry.uid).toBe(uids.get(holder));
      const allocateWhenFree = async () => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await service.allocate(allocateReq(env, nextPod, uids.get(nextPod)!));
          } catch (e) {
            if ((e as { code?: number }).code !== 8 || attempt > 200) throw e; // RESOURCE_EXHAUSTED until freed
            await new Promise((r) => setTimeout(r, 5));
          }
        }
      };
      const [r1, alloc, r2] = await Promise.all([service.releaseRecord(held), allocateWhenFree(), service.releaseRecord(held)]);
      expect([r1, r2].filter(Boolean)).toHaveLength(1);
      expect(alloc.ips[0]!.address.split('/')[0]).toBe(ip);
      // a third stale release after the new owner committed
      expect(await service.releaseRecord(held)).toBe(false);
      expect((await records(onePool)).get(ip)).toBe(uids.get(nextPod));
    }
  } finally {
    await stack.stop();
  }
});

it('forgets, at its scan, a record released outside the leader, so the address is handed out again', async () => {
  const stack = await startGc(env, 'resync', { runController: false, resyncMarginMs: 0 });
  const { service } = stack.inst;
  try {
    const a = await createPod(env, 'rs-0', env.node, rsPool);
    const b = await createPod(env, 'rs-1', env.node, rsPool);
    await waitFor('the pods in the informer', async () => ({ ok: stack.inst.pods.get(`${env.ns}/rs-1`) !== undefined, detail: '' }), 20_000, 100);
    const got = await service.allocate(allocateReq(env, 'rs-0', a));
    const ip = got.ips[0]!.address.split('/')[0]!;
    // `ipam check --release` (or a human) removes the record straight from the block
    const held = service.poolState!.get(rsPool, ip)!;
    const { BlockCommitter } = await import('../../../operator/src/service/block-committer.js');
    const { KubeBlockIO } = await import('../../../operator/src/service/block-client.js');
    const { slotOf } = await import('../../../operator/src/service/block-layout.js');
    const slot = slotOf(rsPool, 4, ip);
    const outside = await new BlockCommitter(new KubeBlockIO(env.kc)).submit(slot.block, undefined, { op: 'release', offset: slot.offset, uid: held.entry.uid, seq: held.entry.seq });
    expect(outside.ok).toBe(true);
    // the leader's memory still counts it taken
    await expect(service.allocate(allocateReq(env, 'rs-1', b))).rejects.toMatchObject({ code: 8 });
    // Records are stamped in whole seconds: let the second of rs-0's record pass before the scan.
    await new Promise((r) => setTimeout(r, 1100));
    await stack.gc.scan();
    expect(service.poolState!.get(rsPool, ip)).toBeUndefined();
    const next = await service.allocate(allocateReq(env, 'rs-1', b));
    expect(next.ips[0]!.address.split('/')[0]).toBe(ip);
    expect((await records(rsPool)).get(ip)).toBe(b);
  } finally {
    await stack.stop();
  }
});
