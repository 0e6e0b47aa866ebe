// Auto pools on the full allocation path: the real operator process (operator/src/main.ts, auto pools
// on by default), 3 simulated nodes running our built shim (nodesim IPAM-only mode), a SpiderSubnet,
// and a Deployment annotated with it. The operator carves the Deployment's pool as it appears; every
// pod's CNI ADD (kubelet → shim → TLS gRPC → operator) picks that pool by the pod's application, so
// all pods reach Running with distinct addresses of their own pool; scale-down shrinks the pool to
// replicas + 1 once the pods' DELs released their addresses; deleting the Deployment deletes the
// pool and empties the subnet's ledger.
import type { V1Pod } from '@kubernetes/client-node';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpiderIPPool, SpiderSubnet } from '../../../operator/src/api/v2beta1/types.js';
import { IPSet } from '../../../operator/src/core/ip/index.js';
import { parseControlledIPPools } from '../../../operator/src/core/subnet/index.js';
import { ensureCluster, kubectl, kubeconfigPath, repoRoot } from '../../support/cluster.js';
import { applyIpamBlockCrd, buildShimInto, freePort, operatorEnv, removeRunObjects, waitNodesReady, writePki, writeShimConflist } from '../helpers/ipam-stack.js';
import { NodesimProcess } from '../helpers/nodesim-process.js';
import { OperatorProcess } from '../helpers/operator-process.js';
import { isReady } from '../helpers/pods.js';
import { type Probe, waitFor } from '../helpers/wait.js';

const RUN = randomBytes(3).toString('hex');
const NAMESPACE = `e2e-autopool-${RUN}`;
const SUBNET = `e2e-autopool-${RUN}`;
const APP = 'web';
const REPLICAS = 20;
// Node indexes and addresses away from the other nodesim tests (0-2, 200; 0-9; 61-63; 71-74).
const NODES = [86, 87, 88].map((i) => ({ name: `e2e-ap-${RUN}-${i}`, index: i }));
const NODE_NAMES = NODES.map((n) => n.name);
const RUN_LABEL = 'spiderpool-ts.io/e2e-run';
const IMAGE = 'registry.invalid/spts/pause:3.10';

const work = mkdtempSync(join(tmpdir(), `spts-autopool-${RUN}-`));
const stateDir = join(work, 'nodesim');
const certDir = join(work, 'certs');
const cniBin = join(work, 'cni-bin');
const opLogFile = join(work, 'operator.log');
const logHint = `[logs: operator ${opLogFile}, nodesim ${join(work, 'nodesim-*.log')}, shim ${join(stateDir, 'nodes', '*', 'spiderpool-ts-ipam.log')}]`;

let core: CoreV1Api;
let apps: AppsV1Api;
let coord: CoordinationV1Api;
let operator: OperatorProcess | undefined;
const sims: NodesimProcess[] = [];
let completed = 0;
const TESTS = 3;
const figures: Record<string, number> = {};

const wait = <T>(what: string, probe: () => Promise<Probe<T>>, timeoutMs: number, intervalMs = 500): Promise<T> => waitFor(`${what} ${logHint}`, probe, timeoutMs, intervalMs);
const json = async <T>(args: string[]): Promise<T> => JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
const isRunning = (p: V1Pod): boolean => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' && isReady(p) && !!p.status.podIP;
const appPods = async (): Promise<V1Pod[]> => (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app=${APP}` })).items;

async function autoPools(): Promise<SpiderIPPool[]> {
  return (await json<{ items: SpiderIPPool[] }>(['get', 'spiderippools', '-l', `ipam.spidernet.io/owner-spider-subnet=${SUBNET}`])).items.filter((p) => !p.metadata.deletionTimestamp);
}

async function poolOfSize(size: number, timeoutMs = 60_000): Promise<SpiderIPPool> {
  return wait(`the Deployment's auto pool with ${size} addresses`, async () => {
    const ps = await autoPools();
    return { ok: ps.length === 1 && IPSet.parse(4, ps[0]!.spec.ips ?? []).count === BigInt(size), value: ps[0]!, detail: ps.map((p) => JSON.stringify(p.spec.ips)).join('; ') || 'no pool' };
  }, timeoutMs);
}

async function allRunning(count: number): Promise<V1Pod[]> {
  return wait(`${count} pods Running with distinct addresses`, async () => {
    const all = (await appPods()).filter((p) => !p.metadata?.deletionTimestamp);
    const running = all.filter(isRunning);
    const ips = new Set(running.map((p) => p.status!.podIP!));
    return { ok: all.length === count && running.length === count && ips.size === count, value: running, detail: `${all.length} pods, ${running.length} Running, ${ips.size} distinct IPs` };
  }, 240_000);
}

beforeAll(async () => {
  await ensureCluster({ timeoutMs: 45 * 60_000 });
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  coord = kc.makeApiClient(CoordinationV1Api);
  await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=spiderpool-ts-tests', '-k', `${repoRoot}/crds/`]);
  await applyIpamBlockCrd();
  buildShimInto(cniBin);
  await writePki(certDir, { caName: `spiderpool-ts autopool CA ${RUN}`, dnsName: 'spiderpool-ts-operator.e2e', nodes: NODE_NAMES });
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  await wait('default ServiceAccount', async () => ({ ok: !!(await core.readNamespacedServiceAccount({ name: 'default', namespace: NAMESPACE }).catch(() => undefined)), detail: 'absent' }), 60_000);
  const subnet: SpiderSubnet = {
    apiVersion: 'spiderpool.spidernet.io/v2beta1',
    kind: 'SpiderSubnet',
    metadata: { name: SUBNET },
    spec: { subnet: '198.18.86.0/24', ips: ['198.18.86.10-198.18.86.250'], gateway: '198.18.86.1' },
  };
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(subnet) });
}, 10 * 60_000);

afterAll(async () => {
  if (apps && core) {
    await apps.deleteNamespacedDeployment({ name: APP, namespace: NAMESPACE, propagationPolicy: 'Background' }).catch(() => undefined);
    await waitFor('pods gone', async () => ({ ok: (await appPods().catch(() => [])).length === 0, detail: '' }), 120_000).catch(() => undefined);
    // The operator deletes the pool once its addresses are released.
    await waitFor('auto pool gone', async () => ({ ok: (await autoPools().catch(() => [])).length === 0, detail: '' }), 60_000).catch(() => undefined);
  }
  for (const s of sims) await s.stop(15_000).catch(() => undefined);
  await operator?.stop().catch(() => undefined);
  const left = await autoPools().catch(() => []);
  for (const p of left) await removeRunObjects({ namespace: NAMESPACE, nodes: [], pool: p.metadata.name!, stateDir, prefix: 'autopool cleanup' });
  await removeRunObjects({ core, coord, namespace: NAMESPACE, nodes: NODE_NAMES, pool: `none-${RUN}`, stateDir, prefix: 'autopool cleanup' });
  await kubectl(['delete', 'spidersubnet', SUBNET, '--ignore-not-found']).catch(() => undefined);
  process.stderr.write(`auto pool e2e figures: ${JSON.stringify(figures)}\n`);
  if (completed === TESTS) rmSync(work, { recursive: true, force: true });
  else process.stderr.write(`autopool-running: kept ${work} ${logHint}\n`);
}, 300_000);

describe('auto pools through the shim', () => {
  test('operator process and 3 simulated nodes with the shim, Ready', async () => {
    const port = await freePort();
    operator = new OperatorProcess(operatorEnv({ kubeconfig: kubeconfigPath, podName: `e2e-ap-operator-${RUN}`, namespace: NAMESPACE, certDir, grpcPort: port, healthPort: await freePort() }), opLogFile);
    await operator.start();
    const conflist = writeShimConflist(join(work, 'conflist.json'), { network: 'e2e-autopool-macvlan', certDir, relayPort: port });
    for (const n of NODES) {
      const sim = new NodesimProcess(
        [
          '--kubeconfig', kubeconfigPath,
          '--nodes', `${n.name}=${n.index}`,
          '--mode', 'ipam-only',
          '--cni-config', conflist,
          '--cni-path', cniBin,
          '--state-dir', stateDir,
          '--label', `${RUN_LABEL}=${RUN}`,
          '--taint', `${RUN_LABEL}=${RUN}:NoSchedule`,
          '--heartbeat', '5',
          '--workers', '4',
          '--retry-base', '500',
          '--retry-max', '3000',
        ],
        join(work, `nodesim-${n.name}.log`),
      );
      sims.push(sim);
      await sim.start();
    }
    await waitNodesReady(wait, core, `${RUN_LABEL}=${RUN}`, NODES.length, `the ${NODES.length} nodes Ready`);
    completed++;
  }, 240_000);

  test(`an annotated ${REPLICAS}-replica Deployment: every pod Running with a distinct address of its auto pool (replicas + 1)`, async () => {
    const t0 = Date.now();
    await apps.createNamespacedDeployment({
      namespace: NAMESPACE,
      body: {
        metadata: { name: APP, namespace: NAMESPACE },
        spec: {
          replicas: REPLICAS,
          selector: { matchLabels: { app: APP } },
          template: {
            metadata: { labels: { app: APP }, annotations: { 'ipam.spidernet.io/subnet': JSON.stringify({ ipv4: [SUBNET] }) } },
            spec: {
              nodeSelector: { [RUN_LABEL]: RUN },
              tolerations: [{ key: RUN_LABEL, operator: 'Equal', value: RUN, effect: 'NoSchedule' }],
              automountServiceAccountToken: false,
              terminationGracePeriodSeconds: 1,
              containers: [{ name: 'app', image: IMAGE }],
            },
          },
        },
      },
    });
    const pool = await poolOfSize(REPLICAS + 1);
    figures.poolCarvedMs = Date.now() - t0;
    const pods = await allRunning(REPLICAS);
    figures.allRunningMs = Date.now() - t0;
    const set = IPSet.parse(4, pool.spec.ips ?? []);
    expect(pods.map((p) => p.status!.podIP!).filter((ip) => !set.hasIP(ip))).toEqual([]);
    expect(pool.spec.podAffinity?.matchLabels?.['ipam.spidernet.io/app-name']).toBe(APP);
    const status = (await json<SpiderSubnet>(['get', 'spidersubnet', SUBNET])).status;
    expect(status?.allocatedIPCount).toBe(REPLICAS + 1);
    expect(status?.totalIPCount).toBe(241);
    completed++;
  }, 600_000);

  test('scale to 5 shrinks the pool to 6 (the kept pods keep their addresses); delete removes the pool and empties the ledger', async () => {
    const before = new Map((await appPods()).filter(isRunning).map((p) => [p.metadata!.name!, p.status!.podIP!]));
    await apps.patchNamespacedDeploymentScale({ name: APP, namespace: NAMESPACE, body: [{ op: 'replace', path: '/spec/replicas', value: 5 }] });
    const pods = await allRunning(5);
    for (const p of pods) expect(p.status!.podIP).toBe(before.get(p.metadata!.name!));
    const pool = await poolOfSize(6, 120_000);
    const set = IPSet.parse(4, pool.spec.ips ?? []);
    expect(pods.map((p) => p.status!.podIP!).filter((ip) => !set.hasIP(ip))).toEqual([]);

    const t0 = Date.now();
    await apps.deleteNamespacedDeployment({ name: APP, namespace: NAMESPACE, propagationPolicy: 'Background' });
    await wait('pods gone', async () => ({ ok: (await appPods()).length === 0, detail: '' }), 120_000);
    await wait('the auto pool deleted and the ledger empty', async () => {
      const ps = await autoPools();
      const s = await json<SpiderSubnet>(['get', 'spidersubnet', SUBNET]);
      const ledger = parseControlledIPPools(s.status?.controlledIPPools);
      return { ok: ps.length === 0 && ledger.ok && Object.keys(ledger.value).length === 0 && s.status?.freeIPCount === 241, detail: `${ps.length} pools, ${s.status?.controlledIPPools}` };
    }, 60_000);
    figures.deleteToPoolGoneMs = Date.now() - t0;
    completed++;
  }, 600_000);
});
