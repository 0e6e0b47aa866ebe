// `npm run demo`: the local demo, end to end on real components.
//
//  1. the local control plane (etcd + kube-apiserver/controller-manager/scheduler 1.33, built once into
//     ~/.cache/spiderpool-ts) with our CRDs installed;
//  2. a SpiderSubnet and a SpiderIPPool applied and listed the way users see them (`kubectl get ss,sp`);
//  3. three simulated nodes (tests/nodesim) that run the real CNI chain in real network namespaces;
//  4. a Deployment of 10 replicas: every pod Running, its address configured inside its namespace;
//  5. clean teardown (pods, namespaces, simulated nodes, and the cluster if the demo started it).
//
// Until the allocator service and shim land (issue "allocation path"), the pods get their addresses
// from Debian's host-local IPAM; the demo then switches its CNI config to our shim.
//
//   npm run demo [-- --keep-cluster]     (leave the control plane running afterwards)
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NodesimProcess } from '../tests/integration/helpers/nodesim-process.js';
import { waitFor } from '../tests/integration/helpers/wait.js';
import { ensureCluster, isClusterReady, kubectl, kubeconfigPath, repoRoot } from '../tests/support/cluster.js';

const { values } = parseArgs({ options: { 'keep-cluster': { type: 'boolean', default: false } } });
const NS = 'spiderpool-ts-demo';
const NODES = ['demo-0', 'demo-1', 'demo-2'];
const t0 = Date.now();
const step = (msg: string) => process.stdout.write(`\n[demo +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
const show = (text: string) => process.stdout.write(text.replace(/^/gm, '    ') + '\n');

interface PodList {
  items: Array<{
    metadata: { name: string };
    spec: { nodeName?: string };
    status: { phase?: string; podIP?: string; containerStatuses?: Array<{ containerID?: string }> };
  }>;
}

const samples = `
apiVersion: spiderpool.spidernet.io/v2beta1
kind: SpiderSubnet
metadata: { name: demo-v4 }
spec: { ipVersion: 4, subnet: 198.18.0.0/16, gateway: 198.18.0.1, ips: ["198.18.10.1-198.18.10.254"] }
---
apiVersion: spiderpool.spidernet.io/v2beta1
kind: SpiderIPPool
metadata: { name: demo-v4-pool }
spec:
  ipVersion: 4
  subnet: 198.18.0.0/16
  gateway: 198.18.0.1
  ips: ["198.18.10.10-198.18.10.59"]
  excludeIPs: ["198.18.10.20"]
`;

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'demo', namespace: NS },
  spec: {
    replicas: 10,
    selector: { matchLabels: { app: 'demo' } },
    template: {
      metadata: { labels: { app: 'demo' } },
      spec: {
        tolerations: [{ key: 'spiderpool-ts.io/demo', operator: 'Exists', effect: 'NoSchedule' }],
        containers: [{ name: 'app', image: 'registry.invalid/demo:1' }],
      },
    },
  },
};

async function main(): Promise<void> {
  step('local control plane (a cold machine builds Kubernetes first: ~15-20 min, with progress)');
  const startedCluster = !(await isClusterReady());
  await ensureCluster({ progress: true });
  show(`kubeconfig: ${kubeconfigPath}\n${await kubectl(['get', '--raw', '/version'])}`);

  step('our CRDs, as users see them');
  await kubectl(['apply', '-f', '-'], { input: samples });
  show(await kubectl(['get', 'spidersubnet,spiderippool', '-o', 'wide']));

  step(`${NODES.length} simulated nodes running the real macvlan + host-local CNI chain in network namespaces`);
  const stateDir = mkdtempSync(join(tmpdir(), 'spts-demo-'));
  const sim = new NodesimProcess(
    [
      '--kubeconfig', kubeconfigPath,
      '--nodes', NODES.map((n, i) => `${n}=${i + 1}`).join(','),
      '--mode', 'netns',
      '--taint', 'spiderpool-ts.io/demo=true:NoSchedule',
      '--cni-config', join(repoRoot, 'tests/nodesim/examples/macvlan-host-local.conflist'),
      '--state-dir', stateDir,
    ],
    join(stateDir, 'nodesim.log'),
  );
  await sim.start();
  show(await kubectl(['get', 'nodes', '-o', 'wide']));

  step('a Deployment of 10 replicas');
  await kubectl(['create', 'namespace', NS]).catch(() => undefined);
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(deployment) });
  const pods = await waitFor(
    'all 10 demo pods Running with an IP',
    async () => {
      const list = JSON.parse(await kubectl(['get', 'pods', '-n', NS, '-o', 'json'])) as PodList;
      const running = list.items.filter((p) => p.status.phase === 'Running' && p.status.podIP);
      process.stdout.write(`    ${running.length}/10 Running\n`);
      return { ok: running.length === 10, value: running, detail: `${running.length}/10 Running` };
    },
    180_000,
    2_000,
  );
  show(await kubectl(['get', 'pods', '-n', NS, '-o', 'wide']));

  step('each address is really configured inside its pod network namespace');
  const sandboxes = JSON.parse(
    execFileSync(
      process.execPath,
      ['--disable-warning=DEP0180', '--import', './hack/register-ts.mjs', 'tests/nodesim/main.ts', 'sandboxes', '--state-dir', stateDir],
      { cwd: repoRoot, encoding: 'utf8' },
    ),
  ) as Array<{ name: string; node: string; netns: string; ifName: string }>;
  for (const sb of sandboxes) {
    const addrs = JSON.parse(execFileSync('ip', ['-n', sb.netns, '-j', 'addr', 'show', 'dev', sb.ifName], { encoding: 'utf8' })) as Array<{
      addr_info: Array<{ family: string; local: string; prefixlen: number }>;
    }>;
    const inet = addrs.flatMap((a) => a.addr_info).filter((i) => i.family === 'inet').map((i) => `${i.local}/${i.prefixlen}`);
    show(`${sb.name.padEnd(24)} ${sb.node.padEnd(7)} ip -n ${sb.netns} addr show ${sb.ifName}: ${inet.join(', ')}`);
  }
  const ips = new Set(pods.map((p) => p.status.podIP));
  show(`${ips.size} distinct IPs for ${pods.length} pods`);

  step('teardown');
  await kubectl(['delete', 'namespace', NS, '--wait=true'], { timeoutMs: 120_000 });
  await kubectl(['delete', '-f', '-', '--ignore-not-found'], { input: samples });
  await sim.stop();
  await kubectl(['delete', 'node', ...NODES, '--ignore-not-found']);
  execFileSync(
    process.execPath,
    ['--disable-warning=DEP0180', '--import', './hack/register-ts.mjs', 'tests/nodesim/main.ts', 'cleanup', '--state-dir', stateDir, '--purge-state'],
    { cwd: repoRoot, stdio: 'inherit' },
  );
  if (startedCluster && !values['keep-cluster']) execFileSync(join(repoRoot, 'hack/controlplane/down.sh'), { stdio: 'inherit' });
  step('done');
}

main().catch((err: unknown) => {
  process.stderr.write(`\ndemo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
