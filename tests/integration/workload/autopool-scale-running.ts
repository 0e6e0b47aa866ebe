// The auto-pool scale run with pods that really start (issue 5 "must show": all reach Running): the
// operator process (operator/src/main.ts) and N simulated nodes running our built shim (nodesim
// IPAM-only mode); D Deployments × R replicas annotated with one SpiderSubnet of exactly D×R
// addresses and ipam.spidernet.io/ippool-ip-number "R". Prints the time until every pool is carved and
// until every pod is Running, and checks D pools of R disjoint addresses, D×R Running pods with
// distinct addresses each inside its Deployment's pool, subnet total = allocated = D×R.
//
//   npm run scale:autopool -- --running [--nodes 10] [--deployments 100] [--replicas 10] [--timeout 1200]
import type { V1Pod } from '@kubernetes/client-node';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { SpiderIPPool, SpiderSubnet } from '../../../operator/src/api/v2beta1/types.js';
import { IPSet } from '../../../operator/src/core/ip/index.js';
import { ensureCluster, kubectl, kubeconfigPath, repoRoot } from '../../support/cluster.js';
import { applyIpamBlockCrd, buildShimInto, freePort, operatorEnv, removeRunObjects, waitNodesReady, writePki, writeShimConflist } from '../helpers/ipam-stack.js';
import { NodesimProcess } from '../helpers/nodesim-process.js';
import { OperatorProcess } from '../helpers/operator-process.js';
import { isReady } from '../helpers/pods.js';
import { waitFor } from '../helpers/wait.js';

const { values } = parseArgs({
  options: {
    running: { type: 'boolean', default: true },
    nodes: { type: 'string', default: '10' },
    deployments: { type: 'string', default: '100' },
    replicas: { type: 'string', default: '10' },
    timeout: { type: 'string', default: '1200' },
    keep: { type: 'boolean', default: false },
  },
  strict: false,
});
const N = Number(values.nodes);
const D = Number(values.deployments);
const R = Number(values.replicas);
const TOTAL = D * R;
const TIMEOUT_MS = Number(values.timeout) * 1000;
const RUN = randomBytes(3).toString('hex');
const NAMESPACE = `apscale-run-${RUN}`;
const SUBNET = `apscale-run-${RUN}`;
const RUN_LABEL = 'spiderpool-ts.io/e2e-run';
// Node indexes 110.. (other nodesim users: 0-9, 61-63, 71-74, 86-88, 200).
const NODES = Array.from({ length: N }, (_, i) => ({ name: `apscale-${RUN}-${110 + i}`, index: 110 + i }));
if (TOTAL > 4000) throw new Error('--deployments × --replicas must be at most 4000 (the subnet is a /20)');
const FIRST = (10n << 24n) | (250n << 16n); // 10.250.0.0/20
const ip = (v: bigint) => [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');

const say = (msg: string, fields: object = {}) => process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), msg, ...fields })}\n`);
const json = async <T>(args: string[]): Promise<T> => JSON.parse(await kubectl([...args, '-o', 'json'], { timeoutMs: 120_000 })) as T;
const isRunning = (p: V1Pod): boolean => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' && isReady(p) && !!p.status.podIP;

export async function runScale(): Promise<number> {
  await ensureCluster({ timeoutMs: 45 * 60_000 });
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const coord = kc.makeApiClient(CoordinationV1Api);
  const work = mkdtempSync(join(tmpdir(), `spts-apscale-${RUN}-`));
  const stateDir = join(work, 'nodesim');
  const certDir = join(work, 'certs');
  const cniBin = join(work, 'cni-bin');
  let operator: OperatorProcess | undefined;
  const sims: NodesimProcess[] = [];
  let failures = 1;
  try {
    await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=spiderpool-ts-tests', '-k', `${repoRoot}/crds/`]);
    await applyIpamBlockCrd();
    buildShimInto(cniBin);
    await writePki(certDir, { caName: `spiderpool-ts apscale CA ${RUN}`, dnsName: 'spiderpool-ts-operator.e2e', nodes: NODES.map((n) => n.name) });
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    await waitFor('default ServiceAccount', async () => ({ ok: !!(await core.readNamespacedServiceAccount({ name: 'default', namespace: NAMESPACE }).catch(() => undefined)), detail: '' }), 60_000);
    const subnet: SpiderSubnet = {
      apiVersion: 'spiderpool.spidernet.io/v2beta1',
      kind: 'SpiderSubnet',
      metadata: { name: SUBNET },
      spec: { subnet: `${ip(FIRST)}/20`, ips: [`${ip(FIRST + 10n)}-${ip(FIRST + 10n + BigInt(TOTAL) - 1n)}`], gateway: ip(FIRST + 1n) },
    };
    await kubectl(['apply', '-f', '-'], { input: JSON.stringify(subnet) });

    const port = await freePort();
    operator = new OperatorProcess(operatorEnv({ kubeconfig: kubeconfigPath, podName: `apscale-operator-${RUN}`, namespace: NAMESPACE, certDir, grpcPort: port, healthPort: await freePort() }), join(work, 'operator.log'));
    await operator.start();
    const conflist = writeShimConflist(join(work, 'conflist.json'), { network: 'apscale-macvlan', certDir, relayPort: port });
    for (const n of NODES) {
      const sim = new NodesimProcess(
        ['--kubeconfig', kubeconfigPath, '--nodes', `${n.name}=${n.index}`, '--mode', 'ipam-only', '--cni-config', conflist, '--cni-path', cniBin, '--state-dir', stateDir,
          '--label', `${RUN_LABEL}=${RUN}`, '--taint', `${RUN_LABEL}=${RUN}:NoSchedule`, '--heartbeat', '5', '--workers', '8', '--retry-base', '500', '--retry-max', '3000'],
        join(work, `nodesim-${n.name}.log`),
      );
      sims.push(sim);
      await sim.start();
    }
    await waitNodesReady(waitFor, core, `${RUN_LABEL}=${RUN}`, NODES.length, `the ${NODES.length} nodes Ready`);
    say('start', { nodes: N, deployments: D, replicas: R, subnet: subnet.spec.ips![0], namespace: NAMESPACE, logs: work });

    const t0 = Date.now();
    for (let i = 0; i < D; i++) {
      const app = `app-${i}`;
      await apps.createNamespacedDeployment({
        namespace: NAMESPACE,
        body: {
          metadata: { name: app, namespace: NAMESPACE },
          spec: {
            replicas: R,
            selector: { matchLabels: { app } },
            template: {
              metadata: { labels: { app, run: RUN }, annotations: { 'ipam.spidernet.io/subnet': JSON.stringify({ ipv4: [SUBNET] }), 'ipam.spidernet.io/ippool-ip-number': String(R) } },
              spec: {
                nodeSelector: { [RUN_LABEL]: RUN },
                tolerations: [{ key: RUN_LABEL, operator: 'Equal', value: RUN, effect: 'NoSchedule' }],
                automountServiceAccountToken: false,
                terminationGracePeriodSeconds: 1,
                containers: [{ name: 'app', image: 'registry.invalid/spts/pause:3.10' }],
              },
            },
          },
        },
      });
    }
    say('deployments created', { ms: Date.now() - t0 });
    let poolsCarvedMs: number | undefined;
    let lastLog = 0;
    const running = await waitFor(`${TOTAL} pods Running [logs ${work}]`, async () => {
      if (poolsCarvedMs === undefined) {
        const pools = (await json<{ items: SpiderIPPool[] }>(['get', 'spiderippools', '-l', `ipam.spidernet.io/owner-spider-subnet=${SUBNET}`])).items;
        if (pools.length === D && pools.every((p) => IPSet.parse(4, p.spec.ips ?? []).count === BigInt(R))) {
          poolsCarvedMs = Date.now() - t0;
          say('every pool carved', { ms: poolsCarvedMs });
        }
      }
      const pods = (await json<{ items: V1Pod[] }>(['get', 'pods', '-n', NAMESPACE, '-l', `run=${RUN}`])).items;
      const up = pods.filter(isRunning);
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        say('progress', { pods: pods.length, running: up.length });
      }
      return { ok: up.length === TOTAL, value: up, detail: `${pods.length} pods, ${up.length} Running` };
    }, TIMEOUT_MS, 1000);
    const allRunningMs = Date.now() - t0;
    say('every pod Running', { ms: allRunningMs });

    const pools = (await json<{ items: SpiderIPPool[] }>(['get', 'spiderippools', '-l', `ipam.spidernet.io/owner-spider-subnet=${SUBNET}`])).items;
    const problems: string[] = [];
    let union = IPSet.empty(4);
    const byApp = new Map<string, IPSet>();
    for (const p of pools) {
      const s = IPSet.parse(4, p.spec.ips ?? []);
      if (s.count !== BigInt(R)) problems.push(`${p.metadata.name}: ${s.count} addresses`);
      if (!union.intersect(s).isEmpty) problems.push(`${p.metadata.name} overlaps another pool`);
      union = union.union(s);
      byApp.set(p.metadata.labels!['ipam.spidernet.io/owner-application-name']!, s);
    }
    if (pools.length !== D) problems.push(`${pools.length} pools, expected ${D}`);
    const ips = new Set(running.map((p) => p.status!.podIP!));
    if (ips.size !== TOTAL) problems.push(`${ips.size} distinct addresses for ${TOTAL} pods`);
    for (const p of running) if (!byApp.get(p.metadata!.labels!.app!)?.hasIP(p.status!.podIP!)) problems.push(`${p.metadata!.name} has ${p.status!.podIP}, outside its pool`);
    const st = (await json<SpiderSubnet>(['get', 'spidersubnet', SUBNET])).status;
    if (st?.totalIPCount !== TOTAL || st?.allocatedIPCount !== TOTAL || st?.freeIPCount !== 0) problems.push(`subnet status ${JSON.stringify(st && { total: st.totalIPCount, allocated: st.allocatedIPCount, free: st.freeIPCount })}`);
    failures = problems.length;
    say(failures === 0 ? 'OK' : 'FAILED', { poolsCarvedMs, allRunningMs, problems: problems.slice(0, 20) });
  } finally {
    if (!values.keep) {
      say('cleaning up');
      await kubectl(['delete', 'deployments', '--all', '-n', NAMESPACE, '--wait=false']).catch(() => '');
      await waitFor('pods gone', async () => {
        const n = (await json<{ items: V1Pod[] }>(['get', 'pods', '-n', NAMESPACE])).items.length;
        return { ok: n === 0, detail: `${n} left` };
      }, 600_000, 2000).catch((e: Error) => say('pods left', { error: e.message }));
      await waitFor('auto pools deleted', async () => {
        const out = await kubectl(['get', 'spiderippools', '-l', `ipam.spidernet.io/owner-spider-subnet=${SUBNET}`, '-o', 'name']);
        return { ok: out.trim() === '', detail: out.trim().split('\n').length + ' left' };
      }, 300_000, 2000).catch((e: Error) => say('pools left', { error: e.message }));
      for (const s of sims) await s.stop(15_000).catch(() => undefined);
      await operator?.stop().catch(() => undefined);
      for (const name of (await kubectl(['get', 'spiderippools', '-l', `ipam.spidernet.io/owner-spider-subnet=${SUBNET}`, '-o', 'name'])).trim().split('\n').filter(Boolean)) {
        await removeRunObjects({ namespace: NAMESPACE, nodes: [], pool: name.replace(/^.*\//, ''), stateDir, prefix: 'apscale cleanup' });
      }
      await removeRunObjects({ core, coord, namespace: NAMESPACE, nodes: NODES.map((n) => n.name), pool: `none-${RUN}`, stateDir, prefix: 'apscale cleanup' });
      await kubectl(['delete', 'spidersubnet', SUBNET, '--ignore-not-found']).catch(() => '');
      if (failures === 0) rmSync(work, { recursive: true, force: true });
    } else {
      for (const s of sims) await s.stop(15_000).catch(() => undefined);
      await operator?.stop().catch(() => undefined);
    }
  }
  return failures === 0 ? 0 : 1;
}
