// One scenario run's world on the chaos cluster: a namespace, a SpiderIPPool, two real operator
// processes (operator/src/main.ts, one Lease, distinct ports), the relay towards the leader, and the
// simulated nodes (nodesim, IPAM-only mode: the built shim is exec'd as the CNI IPAM plugin and dials
// the relay over mTLS). Everything is named after the run id, so runs never see each other's objects;
// down() removes all of it.
import { AppsV1Api, CoordinationV1Api, CoreV1Api, KubeConfig, type V1Pod, type V1Toleration } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABEL_BLOCK_POOL, type IPAMBlock } from '../../operator/src/api/internal/ipamblock.js';
import { ANNO_POD_IPPOOL } from '../../operator/src/api/v2beta1/constants.js';
import { recordsOf, type RecordRef } from '../../operator/src/cli/check.js';
import { poolLabelValue } from '../../operator/src/service/block-layout.js';
import { v4Add } from '../bench/seed/ipam.js';
import { freePort, operatorEnv, writePki, writeShimConflist } from '../integration/helpers/ipam-stack.js';
import { NodesimProcess } from '../integration/helpers/nodesim-process.js';
import { OperatorProcess } from '../integration/helpers/operator-process.js';
import { isReady } from '../integration/helpers/pods.js';
import { waitFor } from '../integration/helpers/wait.js';
import { addIpamOnly, CniError, delIpamOnly, parseNetworkConfig, type NetworkConfigList } from '../nodesim/cni.js';
import { renderTemplate } from '../nodesim/config.js';
import { repoRoot } from '../support/cluster.js';
import type { ChaosCluster } from './cluster.js';
import { ReadyRelay } from './relay.js';

export const RUN_LABEL = 'spiderpool-ts.io/chaos-run';
const IMAGE = 'registry.invalid/spts/pause:3.10';
const LEASE = 'spiderpool-ts-operator';

export interface StackOptions {
  cluster: ChaosCluster;
  /** Unique per run, [a-z0-9-]. */
  id: string;
  /** 0..59: which 198.18.<4k>.0/22 the run's pool lives in. */
  slot: number;
  workDir: string;
  cniBin: string;
  nodes: number;
  /** Addresses in the pool: 198.18.<4k>.1 .. +poolSize (at most 1000). */
  poolSize: number;
  /** Extra nodesim flags (e.g. fault injection). */
  nodesimArgs?: string[];
  say: (msg: string, extra?: Record<string, unknown>) => void;
}

export interface Operator {
  name: string;
  grpcPort: number;
  proc: OperatorProcess;
}

export class Stack {
  readonly namespace: string;
  readonly pool: string;
  readonly nodeNames: string[];
  /** A Node object no simulator runs: pods bound to it are the scenario's own (it execs the shim for them). */
  readonly manualNode: string;
  /** A node run by its own simulator process, to be powered off alone (startVictim). */
  readonly victimNode: string;
  victimSim: NodesimProcess | undefined;
  readonly subnet: string;
  readonly base: string;
  readonly kc = new KubeConfig();
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly coord: CoordinationV1Api;
  readonly operators: Operator[] = [];
  relay: ReadyRelay | undefined;
  sim: NodesimProcess | undefined;
  conflist = '';
  readonly stateDir: string;
  readonly certDir: string;

  constructor(readonly o: StackOptions) {
    this.namespace = `chaos-${o.id}`;
    this.pool = `chaos-${o.id}`;
    this.nodeNames = Array.from({ length: o.nodes }, (_, i) => `chaos-${o.id}-${i}`);
    this.manualNode = `chaos-${o.id}-manual`;
    this.victimNode = `chaos-${o.id}-victim`;
    this.base = `198.18.${4 * o.slot}.0`;
    this.subnet = `${this.base}/22`;
    this.stateDir = join(o.workDir, 'nodesim');
    this.certDir = join(o.workDir, 'certs');
    this.kc.loadFromFile(o.cluster.kubeconfig);
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.apps = this.kc.makeApiClient(AppsV1Api);
    this.coord = this.kc.makeApiClient(CoordinationV1Api);
  }

  get kubeconfig(): string {
    return this.o.cluster.kubeconfig;
  }

  /** The pool's spec.ips for addresses 1..n of the /22 (n ≤ 1000). */
  range(first: number, last: number): string {
    return `${v4Add(this.base, first)}-${v4Add(this.base, last)}`;
  }

  ip(n: number): string {
    return v4Add(this.base, n);
  }

  async up(): Promise<void> {
    const { o } = this;
    mkdirSync(this.stateDir, { recursive: true });
    await this.core.createNamespace({ body: { metadata: { name: this.namespace, labels: { [RUN_LABEL]: o.id } } } });
    await writePki(this.certDir, { caName: `chaos ${o.id}`, dnsName: 'spiderpool-ts-operator.chaos', nodes: [...this.nodeNames, this.manualNode, this.victimNode] });
    await this.applyPool({ ips: [this.range(1, o.poolSize)] });
    await waitFor('default ServiceAccount', async () => ({ ok: !!(await this.core.readNamespacedServiceAccount({ name: 'default', namespace: this.namespace }).catch(() => undefined)), detail: 'absent' }), 60_000);

    // Two replicas started together, as a Deployment's: one takes the Lease, the other follows
    // (scenarios ask leaderIndex() which; start() resolves on /readyz, which a follower passes too).
    for (let i = 0; i < 2; i++) {
      const grpcPort = await freePort();
      const name = `chaos-operator-${o.id}-${i}`;
      const env = { ...operatorEnv({ kubeconfig: this.kubeconfig, podName: name, namespace: this.namespace, certDir: this.certDir, grpcPort, healthPort: await freePort() }), LEASE_NAME: LEASE };
      this.operators.push({ name, grpcPort, proc: new OperatorProcess(env, join(o.workDir, `operator-${i}.log`)) });
    }
    await Promise.all(this.operators.map((op) => op.proc.start()));
    await waitFor('an operator holding the Lease', async () => ({ ok: (await this.leaderIndex()) >= 0, detail: 'no holder' }), 60_000, 250);
    this.relay = new ReadyRelay(this.operators.map((op) => ({ grpcPort: op.grpcPort, healthPort: op.proc.healthPort })));
    const relayPort = await this.relay.start();
    this.conflist = writeShimConflist(join(o.workDir, 'shim.conflist'), { network: `chaos-${o.id}`, certDir: this.certDir, relayPort });
    this.sim = new NodesimProcess(this.simArgs(), join(o.workDir, 'nodesim.log'));
    await this.sim.start();
    await waitFor(`${o.nodes} nodes Ready`, async () => {
      const items = (await this.core.listNode({ labelSelector: `${RUN_LABEL}=${o.id}` })).items;
      const ready = items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !(n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/')));
      return { ok: ready.length === o.nodes, detail: `${ready.length}/${o.nodes}` };
    }, 120_000);
  }

  /** Starts (or powers on again, same state dir) the victim node's own simulator; waits until it is Ready. */
  async startVictim(): Promise<void> {
    this.victimSim ??= new NodesimProcess(this.simArgs(`${this.victimNode}=150`), join(this.o.workDir, 'nodesim-victim.log'));
    await this.victimSim.start();
    await waitFor(`${this.victimNode} Ready`, async () => {
      const n = await this.core.readNode({ name: this.victimNode });
      return { ok: !!n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), detail: 'not Ready' };
    }, 120_000);
  }

  simArgs(nodes = this.nodeNames.map((n, i) => `${n}=${100 + i}`).join(',')): string[] {
    return [
      '--kubeconfig', this.kubeconfig,
      '--nodes', nodes,
      '--mode', 'ipam-only',
      '--cni-config', this.conflist,
      '--cni-path', this.o.cniBin,
      '--state-dir', this.stateDir,
      '--label', `${RUN_LABEL}=${this.o.id}`,
      '--taint', `${RUN_LABEL}=${this.o.id}:NoSchedule`,
      '--heartbeat', '5',
      '--workers', '8',
      '--retry-base', '500',
      '--retry-max', '5000',
      '--log-level', 'info',
      ...(this.o.nodesimArgs ?? []),
    ];
  }

  async applyPool(spec: { ips: string[]; excludeIPs?: string[] }): Promise<void> {
    const body = { apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderIPPool', metadata: { name: this.pool, labels: { [RUN_LABEL]: this.o.id } }, spec: { subnet: this.subnet, gateway: v4Add(this.base, 1022), ...spec } };
    await this.o.cluster.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=chaos', '-f', '-'], JSON.stringify(body));
  }

  /** The index of the operator holding the Lease (from the Lease object), or -1. */
  async leaderIndex(): Promise<number> {
    const l = await this.coord.readNamespacedLease({ name: LEASE, namespace: this.namespace }).catch(() => undefined);
    const holder = l?.spec?.holderIdentity ?? '';
    return this.operators.findIndex((op) => holder.startsWith(`${op.name}@`));
  }

  tolerations(notReadySeconds?: number): V1Toleration[] {
    const t: V1Toleration[] = [{ key: RUN_LABEL, operator: 'Equal', value: this.o.id, effect: 'NoSchedule' }];
    // A dead node's pods are evicted after this many seconds instead of the default 300.
    if (notReadySeconds !== undefined) {
      for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) t.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: notReadySeconds });
    }
    return t;
  }

  async createDeployment(name: string, replicas: number, opts: { notReadyTolerationSeconds?: number } = {}): Promise<void> {
    await this.apps.createNamespacedDeployment({
      namespace: this.namespace,
      body: {
        metadata: { name },
        spec: {
          replicas,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name, [RUN_LABEL]: this.o.id }, annotations: { [ANNO_POD_IPPOOL]: JSON.stringify({ ipv4: [this.pool] }) } },
            spec: {
              nodeSelector: { [RUN_LABEL]: this.o.id },
              tolerations: this.tolerations(opts.notReadyTolerationSeconds),
              automountServiceAccountToken: false,
              terminationGracePeriodSeconds: 1,
              containers: [{ name: 'app', image: IMAGE }],
            },
          },
        },
      },
    });
  }

  /** A bare pod bound to the manual node (no simulator runs it; the scenario plays its runtime). */
  async createManualPod(name: string, finalizer = false): Promise<V1Pod> {
    return this.core.createNamespacedPod({
      namespace: this.namespace,
      body: {
        metadata: { name, labels: { [RUN_LABEL]: this.o.id, manual: 'true' }, annotations: { [ANNO_POD_IPPOOL]: JSON.stringify({ ipv4: [this.pool] }) }, ...(finalizer ? { finalizers: [`${RUN_LABEL.split('/')[0]}/hold`] } : {}) },
        spec: { nodeName: this.manualNode, tolerations: this.tolerations(), automountServiceAccountToken: false, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: IMAGE }] },
      },
    });
  }

  async removeFinalizers(pod: string): Promise<void> {
    await this.o.cluster.kubectl(['patch', 'pod', pod, '-n', this.namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  }

  /** The manual node's Node object (so the operator's node checks see a real node). */
  async createManualNode(): Promise<void> {
    await this.core.createNode({ body: { metadata: { name: this.manualNode, labels: { [RUN_LABEL]: this.o.id, 'kubernetes.io/hostname': this.manualNode } }, spec: { taints: [{ key: RUN_LABEL, value: this.o.id, effect: 'NoSchedule' }] } } });
  }

  private network(node: string): NetworkConfigList {
    const text = renderTemplate(readFileSync(this.conflist, 'utf8'), { NODE_NAME: node, NODE_STATE_DIR: join(this.stateDir, 'manual'), STATE_DIR: this.stateDir, NODE_INDEX: '99', NODE_IP: '198.19.0.99' });
    mkdirSync(join(this.stateDir, 'manual'), { recursive: true });
    return parseNetworkConfig(JSON.parse(text));
  }

  /** Execs the shim ADD as a runtime on `node` would: ok with the IPs, or the CNI error. */
  async cniAdd(pod: { name: string; uid: string }, containerId: string, node = this.manualNode): Promise<{ ok: true; ips: string[] } | { ok: false; code: number | undefined; msg: string }> {
    try {
      const r = (await addIpamOnly(this.network(node), this.rt(pod, containerId))) as { ips?: Array<{ address: string }> };
      return { ok: true, ips: (r.ips ?? []).map((i) => i.address.split('/')[0]!) };
    } catch (e) {
      return { ok: false, code: e instanceof CniError ? e.cniCode : undefined, msg: (e as Error).message };
    }
  }

  async cniDel(pod: { name: string; uid: string }, containerId: string, node = this.manualNode): Promise<void> {
    await delIpamOnly(this.network(node), this.rt(pod, containerId));
  }

  private rt(pod: { name: string; uid: string }, containerId: string) {
    return {
      containerId,
      netns: `/run/netns/spts-ipamonly-${containerId.slice(0, 12)}`,
      ifName: 'eth0',
      args: [['IgnoreUnknown', '1'], ['K8S_POD_NAMESPACE', this.namespace], ['K8S_POD_NAME', pod.name], ['K8S_POD_INFRA_CONTAINER_ID', containerId], ['K8S_POD_UID', pod.uid]] as Array<[string, string]>,
      cniPath: [this.o.cniBin],
      execPrefix: [],
      timeoutMs: 30_000,
    };
  }

  async pods(selector?: string): Promise<V1Pod[]> {
    return (await this.core.listNamespacedPod({ namespace: this.namespace, ...(selector ? { labelSelector: selector } : {}) })).items;
  }

  /** Pods Running + Ready with an IP, not Terminating. */
  static running(pods: V1Pod[]): V1Pod[] {
    return pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' && isReady(p) && !!p.status.podIP);
  }

  /** Waits (bounded) until `count` pods of the selector are Running; the elapsed seconds. */
  async waitRunning(selector: string, count: number, timeoutMs: number, what = ''): Promise<number> {
    const t0 = Date.now();
    let last = -1;
    await waitFor(`${count} pods Running (${selector}) ${what}`, async () => {
      const n = Stack.running(await this.pods(selector)).length;
      if (n !== last && (Date.now() - t0 > 5000 || n === count)) this.o.say(`running ${n}/${count}`, { selector });
      last = n;
      return { ok: n >= count, detail: `${n}/${count} Running` };
    }, timeoutMs, 1000);
    return (Date.now() - t0) / 1000;
  }

  /** Waits until `fraction` of `count` pods are Running (e.g. to strike mid-rollout). */
  async waitFraction(selector: string, count: number, fraction: number, timeoutMs: number): Promise<number> {
    return waitFor(`${Math.ceil(fraction * count)} of ${count} pods Running`, async () => {
      const n = Stack.running(await this.pods(selector)).length;
      return { ok: n >= Math.ceil(fraction * count), value: n, detail: `${n}` };
    }, timeoutMs, 300);
  }

  async blocks(): Promise<IPAMBlock[]> {
    const out = JSON.parse(await this.o.cluster.kubectl(['get', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `${LABEL_BLOCK_POOL}=${poolLabelValue(this.pool)}`, '-o', 'json'])) as { items: IPAMBlock[] };
    return out.items.filter((b) => b.spec.pool === this.pool);
  }

  async records(): Promise<RecordRef[]> {
    return recordsOf(await this.blocks()).records;
  }

  /** SIGUSR1 summary of the simulator (counters since start). */
  async simSummary(): Promise<Record<string, unknown> | undefined> {
    const sim = this.sim;
    if (!sim?.isRunning()) return undefined;
    const before = sim.summaries.length;
    process.kill(sim.pid()!, 'SIGUSR1');
    return waitFor('simulator summary', async () => ({ ok: sim.summaries.length > before, value: sim.summaries.at(-1), detail: '' }), 15_000, 100).catch(() => undefined);
  }

  /** Tears the run down: pods deleted while the nodes run (their DEL releases), then everything else. */
  async down(): Promise<void> {
    const { o } = this;
    await this.apps.deleteCollectionNamespacedDeployment({ namespace: this.namespace }).catch(() => undefined);
    await this.core.deleteCollectionNamespacedPod({ namespace: this.namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
    for (const p of await this.pods().catch(() => [] as V1Pod[])) {
      if (p.metadata?.finalizers?.length) await this.removeFinalizers(p.metadata.name!).catch(() => undefined);
    }
    await Promise.all([this.sim?.stop(20_000), this.victimSim?.stop(20_000), ...this.operators.map((op) => op.proc.stop())].map((p) => p?.catch(() => undefined)));
    this.relay?.stop();
    await this.core.deleteNamespace({ name: this.namespace }).catch(() => undefined);
    await Promise.all([...this.nodeNames, this.manualNode, this.victimNode].map(async (n) => {
      await this.core.deleteNode({ name: n }).catch(() => undefined);
      await this.coord.deleteNamespacedLease({ name: n, namespace: 'kube-node-lease' }).catch(() => undefined);
    }));
    await o.cluster.kubectl(['delete', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `${LABEL_BLOCK_POOL}=${poolLabelValue(this.pool)}`, '--ignore-not-found']).catch(() => undefined);
    await o.cluster.kubectl(['delete', 'spiderippool', this.pool, '--ignore-not-found', '--wait=false']).catch(() => undefined);
    try {
      execFileSync(process.execPath, ['--disable-warning=DEP0180', '--import', './hack/register-ts.mjs', 'tests/nodesim/main.ts', 'cleanup', '--state-dir', this.stateDir, '--nodes', [...this.nodeNames, this.victimNode].join(',')], { cwd: repoRoot, stdio: 'ignore' });
    } catch {
      o.say('nodesim cleanup failed');
    }
  }
}
