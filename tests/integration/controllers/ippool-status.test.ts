// The SpiderIPPool status controller on the real apiserver: counts, free and allocatedIPs follow the
// IPAMBlocks as they gain and lose entries; a SpiderReservedIP changes totalIPCount; allocatedIPs is
// dropped above the cap; nothing is written when nothing changed; a pool whose spec does not parse is
// logged and does not stop the others; `kubectl get sp` shows the numbers.
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { KubePoolStatusWriter, newIPPoolStatusController } from '../../../operator/src/controllers/ippool-status.js';
import { newBlockInformer, newPoolInformer, newReservedIPInformer } from '../../../operator/src/controllers/informers.js';
import { Manager } from '../../../operator/src/framework/manager.js';
import { kubectl } from '../../support/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { type Alloc, type Env, RUN_LABEL, applyJSON, createPod, createPool, poolUID, scopes, setUp, tearDown, writeBlock } from './env.js';

jest.setTimeout(120_000);

const id = randomBytes(3).toString('hex');
const good = `ctl-sp-${id}`;
const bad = `ctl-sp-bad-${id}`;
const other = `ctl-sp-other-${id}`;
const reserved = `ctl-sr-${id}`;
let env: Env;
let mgr: Manager;
const writes: { pool: string; patch: Record<string, unknown> }[] = [];
const reconciles: string[] = [];

interface PoolStatus {
  allocatedIPCount?: number;
  totalIPCount?: number;
  freeIPCount?: number;
  allocatedIPs?: string;
}

async function getPool(name: string): Promise<{ rv: string; status: PoolStatus }> {
  const p = JSON.parse(await kubectl(['get', 'spiderippool', name, '-o', 'json'])) as { metadata: { resourceVersion: string }; status?: PoolStatus };
  return { rv: p.metadata.resourceVersion, status: p.status ?? {} };
}

async function waitStatus(name: string, want: PoolStatus & { allocatedIPsKeys?: string[] | null }): Promise<PoolStatus> {
  return waitFor(`status of ${name} = ${JSON.stringify(want)}`, async () => {
    const { status } = await getPool(name);
    const keys = status.allocatedIPs === undefined ? null : Object.keys(JSON.parse(status.allocatedIPs) as object).sort();
    const ok =
      (['allocatedIPCount', 'totalIPCount', 'freeIPCount'] as const).every((k) => !(k in want) || status[k] === want[k]) &&
      (want.allocatedIPsKeys === undefined || JSON.stringify(keys) === JSON.stringify(want.allocatedIPsKeys));
    return { ok, value: status, detail: JSON.stringify(status) };
  }, 20_000, 100);
}

// Entries name real pods: a pod-release controller of another test on the shared cluster would
// rightly release addresses held for pods that do not exist.
const podUIDs = new Map<number, string>();
const alloc = (ip: string, n: number): Alloc => ({ ip, pod: `${env.ns}/pod-${n}`, uid: podUIDs.get(n) ?? '' });

beforeAll(async () => {
  env = await setUp('ctl-sp');
  for (let n = 1; n <= 12; n++) podUIDs.set(n, await createPod(env, `pod-${n}`));
  await createPool(good, { subnet: '10.251.0.0/16', ips: ['10.251.0.10-10.251.0.29'], gateway: '10.251.0.1' }, id);
  await createPool(other, { subnet: '10.251.0.0/16', ips: ['10.251.1.10-10.251.1.14'] }, id);
  const scope = scopes(env, id, [good, bad, other]);
  const pools = newPoolInformer(env.kc, env.log, scope.pools);
  const blocks = newBlockInformer(env.kc, env.log, scope.blocks);
  const reservedIPs = newReservedIPInformer(env.kc, env.log, scope.reserved);
  const kube = new KubePoolStatusWriter(env.kc);
  const controller = newIPPoolStatusController({
    pools,
    blocks,
    reservedIPs,
    log: env.log,
    allocatedIPsCap: 4,
    onResult: (r) => reconciles.push(r.key),
    writer: {
      async patchStatus(pool, patch) {
        writes.push({ pool, patch });
        await kube.patchStatus(pool, patch);
      },
    },
  });
  mgr = new Manager({ log: env.log, caches: [pools, blocks, reservedIPs], controllers: [{ controller }] });
  await mgr.start();
}, 10 * 60_000);

afterAll(async () => {
  await mgr?.stop();
  if (env) await tearDown(env, [good, bad, other], [reserved]);
});

const writesTo = (pool: string) => writes.filter((w) => w.pool === pool).length;

describe('SpiderIPPool status from IPAMBlocks', () => {
  test('a new pool: total = ips − gateway-free range, nothing allocated, no allocatedIPs', async () => {
    await waitStatus(good, { allocatedIPCount: 0, totalIPCount: 20, freeIPCount: 20, allocatedIPsKeys: null });
    await waitStatus(other, { allocatedIPCount: 0, totalIPCount: 5, freeIPCount: 5 });
  });

  test('counts, free and allocatedIPs follow entries added and removed', async () => {
    const uid = await poolUID(good);
    await writeBlock(env, good, uid, '10.251.0.0', [alloc('10.251.0.10', 1), alloc('10.251.0.11', 2), alloc('10.251.0.12', 3)], env.node);
    const s = await waitStatus(good, { allocatedIPCount: 3, totalIPCount: 20, freeIPCount: 17, allocatedIPsKeys: ['10.251.0.10', '10.251.0.11', '10.251.0.12'] });
    expect(JSON.parse(s.allocatedIPs ?? '{}')['10.251.0.11']).toEqual({ interface: 'eth0', pod: `${env.ns}/pod-2`, podUid: podUIDs.get(2) });

    await writeBlock(env, good, uid, '10.251.0.0', [alloc('10.251.0.10', 1), alloc('10.251.0.12', 3)], env.node);
    await waitStatus(good, { allocatedIPCount: 2, freeIPCount: 18, allocatedIPsKeys: ['10.251.0.10', '10.251.0.12'] });
    // the other pool (same /24 block range, its own block) is untouched
    expect((await getPool(other)).status).toMatchObject({ allocatedIPCount: 0, freeIPCount: 5 });
  });

  test('above the cap (4 here) allocatedIPs is removed, the counts stay exact; below it comes back', async () => {
    const uid = await poolUID(good);
    const five = [10, 11, 12, 13, 14].map((o, i) => alloc(`10.251.0.${o}`, i + 1));
    await writeBlock(env, good, uid, '10.251.0.0', five, env.node);
    await waitStatus(good, { allocatedIPCount: 5, freeIPCount: 15, allocatedIPsKeys: null });
    await writeBlock(env, good, uid, '10.251.0.0', five.slice(0, 4), env.node);
    await waitStatus(good, { allocatedIPCount: 4, freeIPCount: 16, allocatedIPsKeys: ['10.251.0.10', '10.251.0.11', '10.251.0.12', '10.251.0.13'] });
  });

  test('a SpiderReservedIP of the family takes addresses out of totalIPCount (and free), and gives them back', async () => {
    await applyJSON({ apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderReservedIP', metadata: { name: reserved, labels: { [RUN_LABEL]: id } }, spec: { ipVersion: 4, ips: ['10.251.0.28-10.251.0.29', '10.251.1.14'] } });
    await waitStatus(good, { allocatedIPCount: 4, totalIPCount: 18, freeIPCount: 14 });
    await waitStatus(other, { totalIPCount: 4, freeIPCount: 4 });
    await applyJSON({ apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderReservedIP', metadata: { name: reserved, labels: { [RUN_LABEL]: id } }, spec: { ipVersion: 4, ips: ['10.251.0.29'] } });
    await waitStatus(good, { totalIPCount: 19, freeIPCount: 15 });
    await waitStatus(other, { totalIPCount: 5, freeIPCount: 5 });
  });

  test('kubectl get sp shows ALLOCATED-IP-COUNT, TOTAL-IP-COUNT and FREE from the controller', async () => {
    const out = await kubectl(['get', 'sp', good]);
    const [header = '', row = ''] = out.split('\n');
    // Columns are aligned under their headers; empty cells (VERSION when ipVersion is unset) are blank.
    const at = (c: string) => {
      const start = header.indexOf(c);
      const next = header.slice(start + c.length).search(/\S/);
      return row.slice(start, next < 0 ? undefined : start + c.length + next).trim();
    };
    expect(at('ALLOCATED-IP-COUNT')).toBe('4');
    expect(at('TOTAL-IP-COUNT')).toBe('19');
    expect(at('FREE')).toBe('15');
  });

  test('no status write when nothing changed: pool, block and reserved-IP edits reconcile the pool without writing', async () => {
    const before = await getPool(good);
    const n = writesTo(good);
    const r0 = reconciles.filter((k) => k === good).length;
    // Each edit below queues the pool (block update → its pool; reserved-IP update → pools of the family).
    const blockName = (await kubectl(['get', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `ipam.spiderpool-ts.io/pool=${good}`, '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    await kubectl(['label', 'ipamblocks.ipam.spiderpool-ts.io', blockName, `touched=${Date.now()}`]);
    await kubectl(['annotate', 'spiderreservedip', reserved, `touched=${Date.now()}`]);
    await kubectl(['label', 'spiderippool', good, `touched=${Date.now()}`]);
    const rvAfterLabel = (await getPool(good)).rv;
    await new Promise((r) => setTimeout(r, 2_000));
    expect(reconciles.filter((k) => k === good).length).toBeGreaterThanOrEqual(r0 + 2); // it did look
    expect(writesTo(good)).toBe(n);
    const after = await getPool(good);
    expect(after.rv).toBe(rvAfterLabel); // nothing wrote the pool after our own label
    expect(after.status).toEqual(before.status);
  });

  test('a pool whose spec does not parse is logged with its name and error; the others keep being served', async () => {
    // A reversed range passes the CRD's CEL rules (both ends are addresses inside the subnet).
    await createPool(bad, { subnet: '10.251.0.0/16', ips: ['10.251.2.9-10.251.2.1'] }, id);
    const line = await waitFor('a log line for the bad pool', async () => {
      const l = env.logLines.find((x) => x.pool === bad && String(x.message).includes('pool spec is invalid'));
      return { ok: l !== undefined, value: l, detail: `${env.logLines.length} lines` };
    }, 20_000, 100);
    expect(line).toMatchObject({ level: 'warn', controller: 'ippool-status', name: bad });
    expect(String(line.error)).toContain('spec.ips[0]');
    expect(String(line.error)).toContain('10.251.2.9-10.251.2.1');
    await waitStatus(bad, { allocatedIPCount: 0 });
    expect((await getPool(bad)).status.totalIPCount).toBeUndefined();

    const uid = await poolUID(good);
    await writeBlock(env, good, uid, '10.251.0.0', [alloc('10.251.0.10', 1)], env.node);
    await waitStatus(good, { allocatedIPCount: 1, freeIPCount: 18, allocatedIPsKeys: ['10.251.0.10'] });
  });

  test('a burst of block writes: status converges to the last one with at most one write per 250 ms', async () => {
    const uid = await poolUID(good);
    const n = writesTo(good);
    const started = Date.now();
    for (let i = 1; i <= 12; i++) {
      await writeBlock(env, good, uid, '10.251.0.0', Array.from({ length: i }, (_, j) => alloc(`10.251.0.${10 + j}`, j + 1)), env.node);
    }
    await waitStatus(good, { allocatedIPCount: 12, freeIPCount: 7, allocatedIPsKeys: null });
    const elapsed = Date.now() - started;
    const burstWrites = writesTo(good) - n;
    // The rate limit is the property: at most one status write per 250 ms, and never more than one
    // per block change. How many writes merge depends on how fast the apiserver takes the 12 block
    // writes (over 250 ms each on a loaded machine: none merge, and that is still within the limit).
    expect(burstWrites).toBeLessThanOrEqual(Math.min(12, Math.ceil(elapsed / 250) + 1));
  });

  test('the last entry released (block deleted): allocated 0, allocatedIPs removed', async () => {
    const uid = await poolUID(good);
    await writeBlock(env, good, uid, '10.251.0.0', [], env.node);
    await waitStatus(good, { allocatedIPCount: 0, totalIPCount: 19, freeIPCount: 19, allocatedIPsKeys: null });
  });
});
