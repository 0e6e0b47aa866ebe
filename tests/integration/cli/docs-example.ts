// Regenerates the example session of docs/cli.md on the local control plane: a 3-address pool held
// by three pods, one address handed from a finished pod to a new one, a pod deleted without a DEL
// (a leak), with the pool status and history controllers running as the operator runs them (scoped
// to these objects), then the bundled kubectl-spiderpool's commands and their output. Cleans up.
//   node --import ./hack/register-ts.mjs tests/integration/cli/docs-example.ts
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABEL_BLOCK_POOL } from '../../../operator/src/api/internal/ipamblock.js';
import { KubePoolStatusWriter, newIPPoolStatusController } from '../../../operator/src/controllers/ippool-status.js';
import { newBlockInformer, newPoolInformer, newReservedIPInformer } from '../../../operator/src/controllers/informers.js';
import { Manager } from '../../../operator/src/framework/manager.js';
import { newHistoryController } from '../../../operator/src/history/controller.js';
import { KubeHistoryIO } from '../../../operator/src/history/kube-io.js';
import { poolLabelValue } from '../../../operator/src/service/block-layout.js';
import { kubeconfigPath, kubectl, repoRoot } from '../../support/cluster.js';
import { type Alloc, createPod, createPool, poolUID, scopes, setUp, tearDown, writeBlock } from '../controllers/env.js';
import { waitFor } from '../helpers/wait.js';

const id = randomBytes(2).toString('hex');
const pool = `demo-${id}`;
const net = `10.250.${parseInt(id.slice(0, 2), 16)}`;
const ip = (n: number) => `${net}.${n}`;

const run = (file: string, args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) =>
    execFile(file, args, { env: { ...process.env, KUBECONFIG: kubeconfigPath } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, out: stdout + stderr }),
    ),
  );

const env = await setUp('docs');
const out = mkdtempSync(join(tmpdir(), 'kubectl-spiderpool-'));
let mgr: Manager | undefined;
try {
  const uids = new Map<string, string>();
  for (const name of ['web-0', 'web-1', 'web-2', 'job-0']) uids.set(name, await createPod(env, name));
  const a = (n: number, pod: string): Alloc => ({ ip: ip(n), pod: `${env.ns}/${pod}`, uid: uids.get(pod)!, ...(pod.startsWith('web') ? { ok: 'StatefulSet/web' } : {}) });
  await createPool(pool, { subnet: `${net}.0/24`, ips: [`${ip(10)}-${ip(12)}`], gateway: ip(1) }, id);
  const uid = await poolUID(pool);
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
  await writeBlock(env, pool, uid, ip(10), [a(10, 'web-0'), a(11, 'web-1'), a(12, 'job-0')], env.node);
  await new Promise((r) => setTimeout(r, 2500));
  await writeBlock(env, pool, uid, ip(10), [a(10, 'web-0'), a(11, 'web-1')], env.node);
  await new Promise((r) => setTimeout(r, 1500));
  await writeBlock(env, pool, uid, ip(10), [a(10, 'web-0'), a(11, 'web-1'), a(12, 'web-2')], env.node);
  await kubectl(['delete', 'pod', 'web-1', '-n', env.ns, '--grace-period=0', '--force']);
  await waitFor('status and history', async () => {
    const p = JSON.parse(await kubectl(['get', 'spiderippool', pool, '-o', 'json'])) as { status?: { allocatedIPCount?: number } };
    const h = await kubectl(['get', 'ipamhistories.ipam.spiderpool-ts.io', '-l', `${LABEL_BLOCK_POOL}=${poolLabelValue(pool)}`, '-o', 'jsonpath={.items[0].spec.holders.12}']);
    return { ok: p.status?.allocatedIPCount === 3 && h.split('\n').length === 2, detail: h };
  }, 30_000, 200);
  await new Promise((r) => setTimeout(r, 1000));

  const built = await run(process.execPath, [join(repoRoot, 'operator/scripts/build-cli.mjs'), '--out', out]);
  if (built.code !== 0) throw new Error(built.out);
  const cli = join(out, 'kubectl-spiderpool');
  const show = async (args: string[], filter?: (line: string, i: number) => boolean) => {
    const r = await run(process.execPath, [cli, ...args]);
    const text = filter ? r.out.split('\n').filter(filter).join('\n') + '\n' : r.out;
    process.stdout.write(`$ kubectl spiderpool ${args.join(' ')}\n${text}# exit ${r.code}\n\n`);
  };
  await show(['ippool', 'list'], (l, i) => i === 0 || l.startsWith(pool));
  await show(['ippool', 'show', pool]);
  await show(['ip', 'who', ip(12)]);
  await show(['ip', 'who', ip(11)]);
  await show(['ip', 'who', ip(20)]);
  await show(['check', '--namespace', env.ns, '--pool', pool]);
  await show(['release', ip(10), ip(11), '--yes']);
  await show(['ip', 'who', ip(11)]);
} finally {
  await mgr?.stop();
  await tearDown(env, [pool]);
  await kubectl(['delete', 'ipamhistories.ipam.spiderpool-ts.io', '-l', `${LABEL_BLOCK_POOL}=${poolLabelValue(pool)}`, '--ignore-not-found']).catch(() => undefined);
  rmSync(out, { recursive: true, force: true });
}
process.exit(0);
