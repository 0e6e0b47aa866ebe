// Scale run of auto pools (issue 5 "must show"): D Deployments × R replicas, each annotated with one
// SpiderSubnet of exactly D×R addresses and ipam.spidernet.io/ippool-ip-number "R", so the pools use
// every address of the subnet (IPs = pods). A real operator (createOperator, auto pools on) runs in
// this process; the real controller-manager creates the pods (bound to one Node object of this run
// by the template's nodeName); every pod's CNI ADD is played against the operator's allocator
// in-process, retried like a kubelet on "try again". Prints the time until every pool is carved and
// until every pod holds an address, and checks: D pools of R disjoint addresses, the subnet ledger
// full (free 0), D×R distinct pod addresses, each inside its own Deployment's pool.
//
//   npm run scale:autopool -- [--deployments 100] [--replicas 10] [--concurrency 32] [--keep]
//   npm run scale:autopool -- --running [--nodes 10] ...   (pods started by simulated nodes: autopool-scale-running.ts)
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { makePki } from '../../../ipam-plugin/test/support/pki.js';
import type { SpiderIPPool, SpiderSubnet } from '../../../operator/src/api/v2beta1/types.js';
import { IPSet, formatIP, parseIP } from '../../../operator/src/core/ip/index.js';
import { createLogger } from '../../../operator/src/framework/logger.js';
import { createOperator } from '../../../operator/src/operator.js';
import { IpamError } from '../../../operator/src/service/errors.js';
import { kubectl } from '../../support/cluster.js';
import { createTestNamespace } from '../../support/test-namespace.js';
import { waitFor } from '../helpers/wait.js';

const { values } = parseArgs({
  options: {
    deployments: { type: 'string', default: '100' },
    replicas: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '32' },
    timeout: { type: 'string', default: '900' },
    keep: { type: 'boolean', default: false },
    // With --running: the operator process and --nodes simulated nodes with the shim start the pods.
    running: { type: 'boolean', default: false },
    nodes: { type: 'string', default: '10' },
  },
});
const D = Number(values.deployments);
const R = Number(values.replicas);
const TOTAL = D * R;
const TIMEOUT_MS = Number(values.timeout) * 1000;
const hex = randomBytes(3).toString('hex');
const subnetName = `ap-scale-${hex}`;
// A /20 of the 10.64.0.0/10 range picked by the run id: room for up to 4000 addresses.
const base = parseIP(`10.${64 + (parseInt(hex.slice(0, 2), 16) % 64)}.${(parseInt(hex.slice(2, 4), 16) % 16) * 16}.0`).value;
const first = base + 10n;
const last = first + BigInt(TOTAL) - 1n;

const log = createLogger({ level: process.env.LOG_LEVEL ?? 'error', defaultMeta: { run: 'autopool-scale' } });
const say = (msg: string, fields: object = {}) => process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), msg, ...fields })}\n`);

async function main(): Promise<number> {
  const { kc, ns, node } = await createTestNamespace('apscale');
  const custom = kc.makeApiClient(CustomObjectsApi);
  const subnet: SpiderSubnet = {
    apiVersion: 'spiderpool.spidernet.io/v2beta1',
    kind: 'SpiderSubnet',
    metadata: { name: subnetName },
    spec: { subnet: `${formatIP(4, base)}/20`, ips: [`${formatIP(4, first)}-${formatIP(4, last)}`], gateway: formatIP(4, base + 1n) },
  };
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(subnet) });
  const pki = makePki(node);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const op = createOperator(
    {
      kubeconfig: '',
      podName: 'op-apscale',
      namespace: ns,
      leaseName: 'allocator',
      lease: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 },
      grpcHost: '127.0.0.1',
      grpcPort: port,
      advertiseAddress: `127.0.0.1:${port}`,
      tls: { certChain: pki.serverCert, privateKey: pki.serverKey, clientCA: pki.ca },
      healthPort: 0,
      enableIPv4: true,
      enableIPv6: true,
      statefulSetKeepsIPs: true,
      autoPool: { enabled: true, defaultFlexibleIPNumber: 1 },
      gcGraceMs: 60_000,
      logLevel: 'error',
    },
    kc,
    log,
  );
  let failures = 0;
  try {
    await op.start();
    await waitFor('the operator serving', async () => ({ ok: op.service.status().ready, detail: JSON.stringify(op.service.status()) }), 60_000, 200);
    say('start', { deployments: D, replicas: R, subnet: subnet.spec.ips![0], namespace: ns });

    const t0 = Date.now();
    const items = Array.from({ length: D }, (_, i) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `app-${i}`, namespace: ns },
      spec: {
        replicas: R,
        selector: { matchLabels: { app: `app-${i}` } },
        template: {
          metadata: {
            labels: { app: `app-${i}`, run: hex },
            annotations: { 'ipam.spidernet.io/subnet': JSON.stringify({ ipv4: [subnetName] }), 'ipam.spidernet.io/ippool-ip-number': String(R) },
          },
          spec: { nodeName: node, tolerations: [{ operator: 'Exists' }], automountServiceAccountToken: false, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'registry.invalid/pause:1' }] },
        },
      },
    }));
    await kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }), timeoutMs: 300_000 });
    say('deployments created', { ms: Date.now() - t0 });

    // Play each pod's CNI ADD as pods appear (a kubelet retries "try again" after a pause).
    const done = new Map<string, { ip: string; pool: string; app: string }>();
    let retries = 0;
    let poolsCarvedMs: number | undefined;
    const deadline = t0 + TIMEOUT_MS;
    while (done.size < TOTAL) {
      if (Date.now() > deadline) throw new Error(`timed out: ${done.size}/${TOTAL} pods hold an address`);
      if (poolsCarvedMs === undefined) {
        const pools = (await custom.listClusterCustomObject({ group: 'spiderpool.spidernet.io', version: 'v2beta1', plural: 'spiderippools', labelSelector: `ipam.spidernet.io/owner-spider-subnet=${subnetName}` })) as { items: SpiderIPPool[] };
        if (pools.items.length === D && pools.items.every((p) => IPSet.parse(4, p.spec.ips ?? []).count === BigInt(R))) {
          poolsCarvedMs = Date.now() - t0;
          say('every pool carved', { ms: poolsCarvedMs });
        }
      }
      const pods = ((JSON.parse(await kubectl(['get', 'pods', '-n', ns, '-l', `run=${hex}`, '-o', 'json'], { timeoutMs: 120_000 })) as { items: V1Pod[] }).items).filter(
        (p) => !done.has(p.metadata!.name!),
      );
      const queue = [...pods];
      const worker = async () => {
        for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
          try {
            const r = await op.service.allocate({
              containerId: `c-${p.metadata!.uid}`,
              netns: '',
              ifname: 'eth0',
              pod: { namespace: ns, name: p.metadata!.name!, uid: p.metadata!.uid! },
              nodeName: node,
              defaultIpv4Ippool: [],
              defaultIpv6Ippool: [],
              requestId: '',
              networkName: '',
            });
            done.set(p.metadata!.name!, { ip: r.ips[0]!.address.split('/')[0]!, pool: r.ips[0]!.pool, app: p.metadata!.labels!.app! });
          } catch (e) {
            if (!(e instanceof IpamError) || e.code !== 14) throw e;
            retries++;
          }
        }
      };
      await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));
      if (done.size < TOTAL) await new Promise((r) => setTimeout(r, 500));
    }
    const allMs = Date.now() - t0;
    say('every pod holds an address', { ms: allMs, pods: done.size, tryAgainAnswers: retries });

    // Checks.
    const pools = (await custom.listClusterCustomObject({ group: 'spiderpool.spidernet.io', version: 'v2beta1', plural: 'spiderippools', labelSelector: `ipam.spidernet.io/owner-spider-subnet=${subnetName}` })) as { items: SpiderIPPool[] };
    const problems: string[] = [];
    if (pools.items.length !== D) problems.push(`${pools.items.length} pools, expected ${D}`);
    let union = IPSet.empty(4);
    const poolOfApp = new Map<string, IPSet>();
    for (const p of pools.items) {
      const s = IPSet.parse(4, p.spec.ips ?? []);
      if (s.count !== BigInt(R)) problems.push(`${p.metadata.name}: ${s.count} addresses`);
      if (!union.intersect(s).isEmpty) problems.push(`${p.metadata.name} overlaps another pool`);
      union = union.union(s);
      poolOfApp.set(p.metadata.labels!['ipam.spidernet.io/owner-application-name']!, s);
    }
    const ips = new Set([...done.values()].map((d) => d.ip));
    if (ips.size !== TOTAL) problems.push(`${ips.size} distinct addresses for ${TOTAL} pods`);
    for (const [pod, d] of done) if (!poolOfApp.get(d.app)?.hasIP(d.ip)) problems.push(`${pod} holds ${d.ip}, outside its Deployment's pool`);
    const st = ((await custom.getClusterCustomObject({ group: 'spiderpool.spidernet.io', version: 'v2beta1', plural: 'spidersubnets', name: subnetName })) as SpiderSubnet).status;
    if (st?.totalIPCount !== TOTAL || st?.allocatedIPCount !== TOTAL || st?.freeIPCount !== 0) problems.push(`subnet status ${JSON.stringify({ total: st?.totalIPCount, allocated: st?.allocatedIPCount, free: st?.freeIPCount })}`);
    failures = problems.length;
    say(problems.length === 0 ? 'OK' : 'FAILED', { poolsCarvedMs, allAllocatedMs: allMs, problems: problems.slice(0, 20) });
  } finally {
    if (!values.keep) {
      say('cleaning up');
      await kubectl(['delete', 'deployments', '--all', '-n', ns, '--wait=false']).catch(() => '');
      await kubectl(['delete', 'pods', '--all', '-n', ns, '--force', '--grace-period=0', '--wait=false'], { timeoutMs: 300_000 }).catch(() => '');
      // The operator deletes the pools once their pods are released; then the subnet goes.
      await waitFor('the auto pools deleted', async () => {
        const out = await kubectl(['get', 'spiderippools', '-l', `ipam.spidernet.io/owner-spider-subnet=${subnetName}`, '-o', 'name']);
        return { ok: out.trim() === '', detail: `${out.trim().split('\n').length} left` };
      }, 300_000, 1000).catch((e: Error) => say('pools left behind', { error: e.message }));
      await op.stop(1000);
      for (const name of (await kubectl(['get', 'spiderippools', '-l', `ipam.spidernet.io/owner-spider-subnet=${subnetName}`, '-o', 'name'])).trim().split('\n').filter(Boolean)) {
        await kubectl(['delete', name, '--wait=false']).catch(() => '');
      }
      await kubectl(['delete', 'spidersubnet', subnetName, '--ignore-not-found']);
      await kubectl(['delete', 'namespace', ns, '--wait=false']);
      await kubectl(['delete', 'node', node, '--ignore-not-found']);
    } else {
      await op.stop(1000);
    }
    rmSync(pki.dir, { recursive: true, force: true });
  }
  return failures === 0 ? 0 : 1;
}

(values.running ? import('./autopool-scale-running.js').then((m) => m.runScale()) : main()).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
