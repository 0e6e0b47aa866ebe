// kubectl UX end to end on the real apiserver: the pool status controller and the history controller
// running as the operator runs them (scoped to this run's objects), IPAMBlocks written in the
// allocator's layout, and the bundled kubectl-spiderpool run as a process (directly and as a kubectl
// plugin). Checks: a full pool shows Exhausted=True with observedGeneration = metadata.generation and
// follows a spec edit; an address handed from one pod to another shows both in its history (the old
// holder closed); `ippool list/show`, `ip who`, `check`, `release` print what the objects say, with
// meaningful exit codes.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { jest } from '@jest/globals';
import { LABEL_BLOCK_POOL } from '../../../operator/src/api/internal/ipamblock.js';
import type { Condition } from '../../../operator/src/api/v2beta1/meta.js';
import { KubePoolStatusWriter, newIPPoolStatusController } from '../../../operator/src/controllers/ippool-status.js';
import { newBlockInformer, newPoolInformer, newReservedIPInformer } from '../../../operator/src/controllers/informers.js';
import { Manager } from '../../../operator/src/framework/manager.js';
import { newHistoryController } from '../../../operator/src/history/controller.js';
import { KubeHistoryIO } from '../../../operator/src/history/kube-io.js';
import { decodeHolders } from '../../../operator/src/history/record.js';
import { poolLabelValue, slotOf } from '../../../operator/src/service/block-layout.js';
import { kubeconfigPath, kubectl, k8sBinDir, repoRoot } from '../../support/cluster.js';
import { type Alloc, type Env, createPod, createPool, poolUID, scopes, setUp, tearDown, writeBlock } from '../controllers/env.js';
import { waitFor } from '../helpers/wait.js';

jest.setTimeout(180_000);

const id = randomBytes(3).toString('hex');
const pool = `cli-${id}`;
// A /24 per run: concurrent runs of this file never share addresses.
const net = `10.254.${parseInt(id.slice(0, 2), 16)}`;
const ip = (n: number) => `${net}.${n}`;
let env: Env;
let mgr: Manager;
let uid = '';
let outDir = '';
let bundle = '';
const podUID = new Map<number, string>();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, KUBECONFIG: kubeconfigPath, ...extraEnv }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
const cli = (...args: string[]) => run(process.execPath, [bundle, ...args]);

interface PoolJSON {
  metadata: { generation: number };
  status?: { freeIPCount?: number; conditions?: Condition[] };
}
const getPool = async () => JSON.parse(await kubectl(['get', 'spiderippool', pool, '-o', 'json'])) as PoolJSON;
const cond = (p: PoolJSON, type: string) => p.status?.conditions?.find((c) => c.type === type);
const alloc = (n: number, owner: number): Alloc => ({ ip: ip(n), pod: `${env.ns}/pod-${owner}`, uid: podUID.get(owner)! });

beforeAll(async () => {
  env = await setUp('cli');
  for (let n = 1; n <= 4; n++) podUID.set(n, await createPod(env, `pod-${n}`));
  await createPool(pool, { subnet: `${net}.0/24`, ips: [`${ip(10)}-${ip(12)}`] }, id);
  uid = await poolUID(pool);
  const scope = scopes(env, id, [pool]);
  const pools = newPoolInformer(env.kc, env.log, scope.pools);
  const blocks = newBlockInformer(env.kc, env.log, scope.blocks);
  const reservedIPs = newReservedIPInformer(env.kc, env.log, scope.reserved);
  mgr = new Manager({
    log: env.log,
    caches: [pools, blocks, reservedIPs],
    controllers: [
      { controller: newIPPoolStatusController({ pools, blocks, reservedIPs, writer: new KubePoolStatusWriter(env.kc), log: env.log }) },
      { controller: newHistoryController({ blocks, io: new KubeHistoryIO(env.kc), log: env.log, minWriteIntervalMs: 200 }) },
    ],
  });
  await mgr.start();
  outDir = mkdtempSync(join(tmpdir(), 'kubectl-spiderpool-'));
  const built = await run(process.execPath, [join(repoRoot, 'operator/scripts/build-cli.mjs'), '--out', outDir]);
  if (built.code !== 0) throw new Error(`build-cli failed: ${built.stderr}`);
  bundle = join(outDir, 'kubectl-spiderpool');
}, 10 * 60_000);

afterAll(async () => {
  await mgr?.stop();
  if (env) {
    await tearDown(env, [pool]);
    await kubectl(['delete', 'ipamhistories.ipam.spiderpool-ts.io', '-l', `${LABEL_BLOCK_POOL}=${poolLabelValue(pool)}`, '--ignore-not-found']).catch(() => undefined);
  }
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

it('a full pool is Exhausted=True at the current generation; a spec edit that adds an address makes it False at the new generation', async () => {
  await writeBlock(env, pool, uid, ip(10), [alloc(10, 1), alloc(11, 2), alloc(12, 3)], env.node);
  const full = await waitFor('Exhausted=True', async () => {
    const p = await getPool();
    const c = cond(p, 'Exhausted');
    return { ok: c?.status === 'True', value: p, detail: JSON.stringify(p.status) };
  }, 30_000, 200);
  const exhausted = cond(full, 'Exhausted')!;
  expect(exhausted.observedGeneration).toBe(full.metadata.generation);
  expect(exhausted.reason).toBe('NoFreeIP');
  expect(exhausted.message).toBe(`pool ${pool} has no free IP (3/3 allocated); add IPs to spec.ips or scale down`);
  expect(cond(full, 'Ready')).toMatchObject({ status: 'True', observedGeneration: full.metadata.generation });

  await kubectl(['patch', 'spiderippool', pool, '--type=merge', '-p', JSON.stringify({ spec: { ips: [`${ip(10)}-${ip(13)}`] } })]);
  const edited = await waitFor('Exhausted=False at the new generation', async () => {
    const p = await getPool();
    const c = cond(p, 'Exhausted');
    return { ok: c?.status === 'False' && c.observedGeneration === p.metadata.generation, value: p, detail: JSON.stringify(p) };
  }, 30_000, 200);
  expect(edited.metadata.generation).toBeGreaterThan(full.metadata.generation);
  expect(cond(edited, 'Exhausted')!.message).toBe('1 of 4 addresses free');
});

it('an address handed to another pod keeps both in its history; ip who shows the holder and the recent holders', async () => {
  // pod-1 lets go of .10, pod-4 takes it (two writes, as a release then an allocation would).
  await writeBlock(env, pool, uid, ip(10), [alloc(11, 2), alloc(12, 3)], env.node);
  await writeBlock(env, pool, uid, ip(10), [alloc(10, 4), alloc(11, 2), alloc(12, 3)], env.node);
  const block = slotOf(pool, 4, ip(10));
  const holders = await waitFor('history of .10 with pod-4 open and pod-1 closed', async () => {
    const h = JSON.parse(await kubectl(['get', 'ipamhistories.ipam.spiderpool-ts.io', block.block.name, '-o', 'json', '--ignore-not-found']) || '{}') as { spec?: { holders: Record<string, string> } };
    const list = decodeHolders(h.spec?.holders[String(block.offset)]).holders;
    const ok = list.length === 2 && list[0]!.uid === podUID.get(4) && list[0]!.until === undefined && list[1]!.uid === podUID.get(1) && list[1]!.until !== undefined;
    return { ok, value: list, detail: JSON.stringify(h.spec ?? null) };
  }, 30_000, 200);
  expect(holders[1]!.pod).toBe(`${env.ns}/pod-1`);

  const who = await cli('ip', 'who', ip(10));
  expect(who).toMatchObject({ code: 0, stderr: '' });
  expect(who.stdout).toContain(`${ip(10)} is held in pool ${pool} (IPAMBlock ${block.block.name} slot 10)`);
  expect(who.stdout).toContain(`pod:        ${env.ns}/pod-4 (uid ${podUID.get(4)})\n  pod state:  Pending\n`);
  expect(who.stdout).toContain(`node:       ${env.node}`);
  expect(who.stdout).toMatch(new RegExp(`${env.ns}/pod-1 +${podUID.get(1)} +eth0 +${env.node} +\\S+ +\\d{4}-\\d\\d-\\d\\dT`));

  const json = await cli('ip', 'who', ip(10), '-o', 'json');
  const answer = (JSON.parse(json.stdout) as { answers: { current?: { pod: string }; history: { pod: string; until?: string }[] }[] }).answers[0]!;
  expect(answer.current?.pod).toBe(`${env.ns}/pod-4`);
  expect(answer.history.map((h) => h.pod)).toEqual([`${env.ns}/pod-4`, `${env.ns}/pod-1`]);

  const free = await cli('ip', 'who', ip(13));
  expect(free.code).toBe(1);
  expect(free.stdout).toContain(`${ip(13)} is free in pool ${pool}`);
  const bad = await cli('ip', 'who', 'not-an-ip');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('"not-an-ip" is not an IP address');
});

it('ippool list and show print the counts, conditions and holders; as a kubectl plugin too', async () => {
  await waitFor('free 1', async () => {
    const p = await getPool();
    return { ok: p.status?.freeIPCount === 1, detail: JSON.stringify(p.status) };
  }, 30_000, 200);
  const list = await cli('ippool', 'list');
  expect(list.code).toBe(0);
  const header = list.stdout.split('\n')[0]!.split(/\s+/);
  expect(header).toEqual(['NAME', 'VERSION', 'SUBNET', 'ALLOCATED', 'TOTAL', 'FREE', 'DEFAULT', 'DISABLE', 'READY', 'EXHAUSTED', 'AGE']);
  const row = list.stdout.split('\n').find((l) => l.startsWith(`${pool} `))!.split(/\s+/);
  expect(row.slice(0, 10)).toEqual([pool, '4', `${net}.0/24`, '3', '4', '1', 'false', 'false', 'True', 'False']);

  const show = await cli('ippool', 'show', pool);
  expect(show.code).toBe(0);
  expect(show.stdout).toContain(`IPs:         ${ip(10)}-${ip(13)}`);
  expect(show.stdout).toContain('Counts:      allocated 3, total 4, free 1 (records in IPAMBlocks: 3)');
  expect(show.stdout).toMatch(/Exhausted +False +FreeIPsAvailable +(\d+)\/\1 /);
  for (const [n, owner] of [[10, 4], [11, 2], [12, 3]] as const) expect(show.stdout).toMatch(new RegExp(`${ip(n).replaceAll('.', '\\.')} +${env.ns}/pod-${owner} +eth0 +${env.node}`));

  const missing = await cli('ippool', 'show', `no-such-${id}`);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain(`SpiderIPPool "no-such-${id}" not found`);
  const usage = await cli('ippool');
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain('ippool needs a subcommand: list or show <name>');

  // kubectl runs `kubectl-spiderpool` from PATH; Node 24 first on PATH for its #!/usr/bin/env node.
  const plugin = await run(join(k8sBinDir, 'kubectl'), ['spiderpool', 'ippool', 'show', pool], { PATH: `${outDir}:${dirname(process.execPath)}:${process.env.PATH ?? ''}` });
  expect(plugin.code).toBe(0);
  expect(plugin.stdout).toContain(`Name:        ${pool}`);
});

it('check and release delegate to ipam check: a leak is released by address, a live holder is refused', async () => {
  const clean = await cli('check', '--pool', pool, '--namespace', env.ns);
  expect(clean.stdout).toContain('no findings');
  expect(clean.code).toBe(0);

  // pod-2 goes away without a DEL: its record of .11 is a leak.
  await kubectl(['delete', 'pod', 'pod-2', '-n', env.ns, '--grace-period=0', '--force']);
  await waitFor('pod-2 gone', async () => {
    const out = await kubectl(['get', 'pod', 'pod-2', '-n', env.ns, '--ignore-not-found', '-o', 'name']);
    return { ok: out.trim() === '', detail: out };
  }, 30_000, 200);
  const leak = await cli('check', '--pool', pool, '--namespace', env.ns);
  expect(leak.code).toBe(1);
  expect(leak.stdout).toContain(`leak (pod-deleted): ${ip(11)} of pool ${pool} recorded for pod ${env.ns}/pod-2`);

  const refused = await cli('release', ip(12), '--yes');
  expect(refused.code).toBe(1);
  expect(refused.stdout).toContain(`not released ${ip(12)}: held by pod ${env.ns}/pod-3`);

  const released = await cli('release', ip(11), '--yes');
  expect(released.code).toBe(0);
  expect(released.stdout).toContain(`released ${ip(11)} of pool ${pool} (pod ${env.ns}/pod-2`);
  const after = await cli('ip', 'who', ip(11));
  expect(after.code).toBe(1);
  expect(after.stdout).toContain(`${ip(11)} is free in pool ${pool}`);
});
