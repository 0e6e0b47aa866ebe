// `ipam check` against the local control plane: a leak and a duplicate planted by writing IPAMBlocks
// directly are reported (exit 1, by the library and by `npm run ipam:check`'s script), a declined
// prompt releases nothing, `--release --yes` releases the leak through the uid+seq CAS, and once the
// duplicate is gone and the pool counts agree the check is clean (exit 0). Scoped to this test's pools
// and namespace: other tests run on the same cluster.
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { jest } from '@jest/globals';
import { type IPAMBlock, IPAM_API_VERSION, LABEL_BLOCK_POOL, encodeEntry } from '../../../operator/src/api/internal/ipamblock.js';
import type { Finding } from '../../../operator/src/cli/check.js';
import { runCheck } from '../../../operator/src/cli/check-main.js';
import { poolLabelValue, slotOf } from '../../../operator/src/service/block-layout.js';
import { kubeconfigPath, kubectl, repoRoot } from '../../support/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { createPods, createPool, type Env, recordedAddresses, setUp, tearDown } from '../allocator/harness.js';

jest.setTimeout(240_000);

const hex = randomBytes(3).toString('hex');
const poolA = `chk-a-${hex}`;
const poolB = `chk-b-${hex}`;
// a /24 of its own per run, so a concurrent run of this file plants no duplicate of ours
const net = `10.232.${randomInt(0, 256)}`;
const ip5 = `${net}.5`;
const ip6 = `${net}.6`;
let env: Env;
let scope: string[];

beforeAll(async () => {
  env = await setUp('ipamchk');
  await createPool(poolA, '10.232.0.0/16', `${net}.1-${net}.50`);
  await createPool(poolB, '10.233.0.0/16', `${net.replace('10.232.', '10.233.')}.1-${net.replace('10.232.', '10.233.')}.50`);
  scope = ['--pool', poolA, '--pool', poolB, '--namespace', env.ns];
}, 10 * 60_000);

afterAll(async () => {
  if (env) await tearDown(env, [poolA, poolB]);
});

async function check(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runCheck(args, { stdout, stderr, stdin: Readable.from([stdin]), kubeConfig: env.kc });
  return { code, out, err };
}

const findingsOf = (out: string) => (JSON.parse(out) as { findings: Finding[] }).findings;

function block(pool: string, ip: string, entries: Record<string, { uid: string; pod: string; seq: number }>): IPAMBlock {
  const { block: ref } = slotOf(pool, 4, ip);
  const allocations = Object.fromEntries(
    Object.entries(entries).map(([slot, e]) => [slot, encodeEntry({ ...e, nic: 'eth0', node: env.node, at: '2026-11-21T19:00:00Z' })]),
  );
  return {
    apiVersion: IPAM_API_VERSION,
    kind: 'IPAMBlock',
    metadata: { name: ref.name, labels: { [LABEL_BLOCK_POOL]: poolLabelValue(pool) } },
    spec: { pool, cidr: ref.cidr, seq: 10, allocated: Object.keys(allocations).length, allocations },
  };
}

/** Record time as the allocator writes it: whole seconds. */
const nowStamp = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

it('reports a planted leak and duplicate, releases the leak with --release --yes, and is clean afterwards', async () => {
  const pods = await createPods(env, 'dup', 2, poolA);
  const [uidA, uidB] = [pods.get('dup-0')!, pods.get('dup-1')!];
  const ghost = `ghost-${hex}`;
  // pool A: .5 for dup-0, .6 for a pod that does not exist (the leak);
  // pool B: .5 again, for dup-1 (the duplicate: B's block records an address of A's range)
  const a = block(poolA, ip5, { 5: { uid: uidA, pod: `${env.ns}/dup-0`, seq: 1 } });
  const b = block(poolB, ip5, { 5: { uid: uidB, pod: `${env.ns}/dup-1`, seq: 1 } });
  await kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [a, b] }) });

  // The leak is planted right before each step that needs it: an operator another test runs on this
  // shared cluster judges every record too, and its GC rightly releases the leak whenever it sees it
  // (at the start of its leadership term). Recent records stay out of its periodic resync.
  const plantLeak = () =>
    kubectl(['patch', 'ipamblocks.ipam.spiderpool-ts.io', a.metadata.name!, '--type=merge', '-p', JSON.stringify({
      spec: { allocations: { 6: encodeEntry({ uid: ghost, pod: `${env.ns}/ghost-0`, nic: 'eth0', node: env.node, seq: 2, at: nowStamp() }) } },
    })]);
  const withLeak = async <T>(step: string, run: () => Promise<T>, done: (r: T) => boolean): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      await plantLeak();
      const r = await run();
      if (done(r) || attempt >= 5) return r;
      process.stdout.write(`ipam-check test: the planted leak was released by another operator before ${step}; planting it again\n`);
    }
  };
  const hasLeak = (fs: Finding[]) => fs.some((f) => f.kind === 'leak');

  const first = await withLeak('the first check', () => check(['--json', ...scope]), (r) => hasLeak(findingsOf(r.out)));
  expect(first.code).toBe(1);
  const findings = findingsOf(first.out);
  expect(findings).toContainEqual(expect.objectContaining({ kind: 'leak', reason: 'pod-deleted', record: expect.objectContaining({ ip: ip6, pool: poolA, uid: ghost, seq: 2 }) }));
  const dup = findings.find((f) => f.kind === 'duplicate-record');
  expect(dup).toMatchObject({ ip: ip5 });
  expect(dup?.kind === 'duplicate-record' && dup.records.map((r) => r.pool).sort()).toEqual([poolA, poolB].sort());
  // the live pods' records are not leaks
  expect(findings.filter((f) => f.kind === 'leak')).toHaveLength(1);

  // the script behind `npm run ipam:check`: human output, exit code 1
  const script = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--disable-warning=DEP0180', '--import', './hack/register-ts.mjs', 'operator/src/cli/check-main.ts', ...scope],
      { cwd: repoRoot, env: { ...process.env, KUBECONFIG: kubeconfigPath }, timeout: 120_000 },
      (e, stdout) => resolve({ code: e ? Number((e as { code?: number }).code ?? 2) : 0, out: stdout }),
    );
  });
  expect(script.code).toBe(1);
  expect(script.out).toContain(`duplicate record: ${ip5} recorded by`);
  expect(script.out).toMatch(/\d+ finding\(s\): /);

  // a declined prompt releases nothing
  const declined = await withLeak('the declined prompt', () => check(['--release', ...scope], 'n\n'), (r) => r.err.includes('nothing released'));
  expect(declined.err).toContain('release 1 leaked address(es)? [y/N]');
  expect(declined.err).toContain('nothing released');

  // --release --yes: the leak goes (CAS on uid + seq); the duplicate stays, so still exit 1
  const released = await withLeak('--release --yes', () => check(['--release', '--yes', ...scope]), (r) => r.out.includes(`released ${ip6}`));
  expect(released.out).toContain(`released ${ip6} of pool ${poolA} (pod ${env.ns}/ghost-0 uid ${ghost} seq 2)`);
  expect(released.code).toBe(1);
  const after = await recordedAddresses(env, poolA);
  expect(after.has(ip6)).toBe(false);
  expect(after.get(ip5)).toBe(uidA);
  const again = findingsOf((await check(['--json', ...scope])).out);
  expect(again.filter((f) => f.kind === 'leak')).toEqual([]);

  // the duplicate removed and the pool counts set as the status controller would: clean, exit 0
  await kubectl(['delete', 'ipamblocks.ipam.spiderpool-ts.io', b.metadata.name!]);
  for (const [pool, count] of [[poolA, 1], [poolB, 0]] as const) {
    await kubectl(['patch', 'spiderippool', pool, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { allocatedIPCount: count } })]);
  }
  await waitFor('a clean check of this test\'s pools and namespace', async () => {
    const r = await check(['--json', ...scope]);
    return { ok: r.code === 0, detail: `exit ${r.code}: ${JSON.stringify(findingsOf(r.out)).slice(0, 400)}` };
  }, 30_000, 1000);
});
