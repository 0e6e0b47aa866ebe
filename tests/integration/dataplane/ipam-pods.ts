// Pods that get their addresses the real way, without a kubelet: the operator (operator/src/main.ts,
// a child process with its Lease, informers and TLS gRPC), our built shim as macvlan's IPAM, Debian's
// macvlan plugin, and Pod objects in the real apiserver bound to our simulated node names. The CNI ADD
// is driven here (tests/nodesim/cni.ts's exec, the way libcni runs a conflist) instead of through the
// node simulator's kubelet loop: the data-path suite needs pods in seconds, not the kubelet's retries.
//
// A node is a network namespace of the caller's topology whose `eth0` is macvlan's master; the shim
// runs in it (macvlan execs its IPAM in the caller's namespace), so each node namespace gets a relay
// 127.0.0.1:<RELAY_PORT> -> unix socket -> the operator's TCP port (tests/integration/e2e/netns-tool.mjs),
// exactly as the allocation-path e2e test does.
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { join } from 'node:path';
import type { Route } from '../../../operator/src/api/v2beta1/types.js';
import { blockEntries, type IPAMBlock, LABEL_BLOCK_POOL } from '../../../operator/src/api/internal/ipamblock.js';
import { poolLabelValue } from '../../../operator/src/service/block-layout.js';
import { addNetworkList, delNetworkList, type NetworkConfigList } from '../../nodesim/cni.js';
import { kubectl, kubeconfigPath } from '../../support/cluster.js';
import { applyIpamBlockCrd, buildShimInto, freePort, operatorEnv, SHIM, startInNetns, startOperatorRelay, writePki } from '../helpers/ipam-stack.js';
import { OperatorProcess } from '../helpers/operator-process.js';
import { waitFor } from '../helpers/wait.js';
import type { Netns } from './netns.js';

const RELAY_PORT = 9443;

export interface PoolDef {
  name: string;
  subnet: string;
  ips: string[];
  gateway?: string;
  routes?: Route[];
}

export interface NodeDef {
  /** Kubernetes node name (also the CN of its client certificate). */
  name: string;
  /** Its network namespace; `eth0` there is macvlan's master. */
  ns: string;
}

export interface CniIp {
  address: string;
  gateway?: string;
}

export interface PodNet {
  name: string;
  uid: string;
  node: string;
  /** The pod's sandbox namespace. */
  netns: string;
  containerId: string;
  /** The CNI result macvlan returned (our shim's ips/routes, macvlan's interfaces). */
  result: { ips: CniIp[]; routes?: Route[] };
  /** Addresses without prefix, IPv4 first. */
  ipv4?: string;
  ipv6?: string;
}

export interface IpamPodsOptions {
  /** Short unique run id: names the namespace, Nodes, operator and certificates. */
  run: string;
  work: string;
  nodes: NodeDef[];
  pools: PoolDef[];
  ipv6: boolean;
  /** For the namespaces of the pods. */
  netns: Netns;
  log?: (msg: string) => void;
}

export class IpamPods {
  readonly namespace: string;
  private core!: CoreV1Api;
  private operator: OperatorProcess | undefined;
  private relayServer: Server | undefined;
  private readonly relays: ChildProcess[] = [];
  private readonly pods: PodNet[] = [];
  private readonly cniBin: string;
  private readonly certDir: string;
  private readonly log: (msg: string) => void;
  readonly operatorLog: string;

  constructor(private readonly o: IpamPodsOptions) {
    this.namespace = `dataplane-${o.run}`;
    this.cniBin = join(o.work, 'cni-bin');
    this.certDir = join(o.work, 'certs');
    this.operatorLog = join(o.work, 'operator.log');
    this.log = o.log ?? (() => undefined);
  }

  /** Shim build, PKI, namespace, pools, Node objects, operator (ready), relays. */
  async start(): Promise<void> {
    const { o } = this;
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    this.core = kc.makeApiClient(CoreV1Api);
    await applyIpamBlockCrd();
    this.log('building the shim');
    await this.buildShim();
    await writePki(this.certDir, { caName: `spiderpool-ts dataplane CA ${o.run}`, dnsName: 'spiderpool-ts-operator.dataplane', nodes: o.nodes.map((n) => n.name) });

    await this.core.createNamespace({ body: { metadata: { name: this.namespace } } });
    for (const p of o.pools) {
      await kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderIPPool', metadata: { name: p.name }, spec: { subnet: p.subnet, ips: p.ips, gateway: p.gateway, routes: p.routes ?? [] } }) });
    }
    // Node objects without a kubelet, like tests/support/test-namespace.ts: the pod GC keeps pods
    // bound to an existing Node; the pods tolerate the taints the node lifecycle controller adds.
    for (const n of o.nodes) {
      await this.core.createNode({ body: { metadata: { name: n.name, labels: { 'spiderpool-ts.io/dataplane-run': o.run } } } });
    }

    const grpcPort = await freePort();
    const healthPort = await freePort();
    const env = operatorEnv({ kubeconfig: kubeconfigPath, podName: `dataplane-operator-${o.run}`, namespace: this.namespace, certDir: this.certDir, grpcPort, healthPort });
    env.ENABLE_IPV6 = String(o.ipv6);
    // The cluster is shared: no periodic GC scans over other tests' records from this operator
    // (CNI DEL and pod deletion still release, which is all this run needs).
    env.GC_IP_ENABLED = 'false';
    this.operator = new OperatorProcess(env, this.operatorLog);
    this.log('starting the operator');
    await this.operator.start();
    const sock = join(o.work, 'operator.sock');
    this.relayServer = await startOperatorRelay(sock, grpcPort);
    for (const n of o.nodes) this.relays.push(await startInNetns(n.ns, ['relay', '127.0.0.1', String(RELAY_PORT), sock], join(o.work, `relay-${n.name}.log`)));
  }

  /**
   * The shim built and copied into our CNI dir. Two builds at once (another test or bench in the same
   * tree) clear each other's ipam-plugin/dist; the copy is ours once made, so a failed attempt is
   * simply retried after a pause.
   */
  private async buildShim(attempts = 4): Promise<void> {
    for (let i = 1; ; i++) {
      try {
        rmSync(this.cniBin, { recursive: true, force: true });
        buildShimInto(this.cniBin);
        return;
      } catch (e) {
        if (i >= attempts) throw e;
        this.log(`shim build attempt ${i} failed (a concurrent build?): retrying`);
        await new Promise((r) => setTimeout(r, 2000 + Math.random() * 3000));
      }
    }
  }

  private conflist(node: NodeDef): NetworkConfigList {
    const dir = join(this.certDir, node.name);
    const stateDir = join(this.o.work, 'nodes', node.name);
    mkdirSync(stateDir, { recursive: true });
    return {
      cniVersion: '1.0.0',
      name: 'dataplane-macvlan',
      plugins: [
        {
          type: 'macvlan',
          master: 'eth0',
          mode: 'bridge',
          ipam: {
            type: SHIM,
            operator_endpoint: `127.0.0.1:${RELAY_PORT}`,
            tls_ca_file: join(dir, 'ca.crt'),
            tls_cert_file: join(dir, 'node.crt'),
            tls_key_file: join(dir, 'node.key'),
            timeout_ms: 15_000,
            log_file_path: join(stateDir, 'spiderpool-ts-ipam.log'),
            log_level: 'info',
            node_name: node.name,
          },
        },
      ],
    };
  }

  private runtime(node: NodeDef, pod: { name: string; uid: string; containerId: string; netns: string }) {
    return {
      containerId: pod.containerId,
      netns: `/run/netns/${pod.netns}`,
      ifName: 'eth0',
      args: [
        ['IgnoreUnknown', '1'],
        ['K8S_POD_NAMESPACE', this.namespace],
        ['K8S_POD_NAME', pod.name],
        ['K8S_POD_INFRA_CONTAINER_ID', pod.containerId],
        ['K8S_POD_UID', pod.uid],
      ] as Array<[string, string]>,
      cniPath: [this.cniBin],
      execPrefix: ['ip', 'netns', 'exec', node.ns],
      timeoutMs: 30_000,
    };
  }

  /**
   * A Pod bound to `node` (annotations as given, e.g. ipam.spidernet.io/ippool), its sandbox namespace,
   * and the CNI ADD of macvlan + our shim into it. Retries the ADD while the operator says "try again".
   */
  async addPod(name: string, node: NodeDef, annotations: Record<string, string>): Promise<PodNet> {
    const body: V1Pod = {
      metadata: { name, namespace: this.namespace, annotations },
      spec: {
        nodeName: node.name,
        automountServiceAccountToken: false,
        tolerations: [{ operator: 'Exists' }],
        containers: [{ name: 'app', image: 'registry.invalid/spts/pause:3.10' }],
      },
    };
    const created = await this.core.createNamespacedPod({ namespace: this.namespace, body });
    const uid = created.metadata!.uid!;
    const netns = await this.o.netns.add(`p-${name}`);
    const containerId = randomBytes(32).toString('hex');
    const rt = this.runtime(node, { name, uid, containerId, netns });
    const list = this.conflist(node);
    const result = await waitFor(
      `CNI ADD of ${name} on ${node.name} (shim log ${join(this.o.work, 'nodes', node.name)}, operator log ${this.operatorLog})`,
      async () => {
        try {
          return { ok: true, value: (await addNetworkList(list, rt)) as PodNet['result'], detail: '' };
        } catch (e) {
          return { ok: false, detail: (e as Error).message };
        }
      },
      60_000,
      1000,
    );
    const strip = (a: string) => a.split('/')[0]!;
    const pod: PodNet = {
      name,
      uid,
      node: node.name,
      netns,
      containerId,
      result,
      ipv4: result.ips.map((i) => i.address).filter((a) => !a.includes(':')).map(strip)[0],
      ipv6: result.ips.map((i) => i.address).filter((a) => a.includes(':')).map(strip)[0],
    };
    this.pods.push(pod);
    this.log(`pod ${name} on ${node.name}: ${result.ips.map((i) => i.address).join(', ')}`);
    return pod;
  }

  /** The pools' IPAMBlock entries count (records the operator holds for us). */
  async recordedCount(): Promise<number> {
    let n = 0;
    for (const p of this.o.pools) {
      const out = JSON.parse(await kubectl(['get', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `${LABEL_BLOCK_POOL}=${poolLabelValue(p.name)}`, '-o', 'json'])) as { items: IPAMBlock[] };
      for (const b of out.items) if (b.spec.pool === p.name) n += [...blockEntries(b)].length;
    }
    return n;
  }

  /**
   * What a kubelet does when pods are deleted: the Pod objects go (grace 0), then the CNI DEL of each
   * sandbox. (A DEL while the pod lives keeps its addresses by design: the runtime may be recreating
   * the sandbox.) Returns what failed.
   */
  async delAllPods(): Promise<string[]> {
    const problems: string[] = [];
    const nodes = new Map(this.o.nodes.map((n) => [n.name, n]));
    const gone = this.pods.splice(0);
    for (const p of gone) await this.core.deleteNamespacedPod({ name: p.name, namespace: this.namespace, gracePeriodSeconds: 0 }).catch((e: Error) => problems.push(`delete pod ${p.name}: ${e.message}`));
    await waitFor(
      'the run\'s Pod objects gone',
      async () => {
        const left = (await this.core.listNamespacedPod({ namespace: this.namespace })).items.length;
        return { ok: left === 0, detail: `${left} left` };
      },
      60_000,
    ).catch((e: Error) => problems.push(e.message));
    for (const p of gone) {
      const node = nodes.get(p.node)!;
      await delNetworkList(this.conflist(node), this.runtime(node, p), p.result).catch((e: Error) => problems.push(`CNI DEL ${p.name}: ${e.message}`));
    }
    return problems;
  }

  /**
   * CNI DEL of every pod (the shim releases its addresses), then the operator, relays and every
   * cluster object of the run. Never throws; returns what went wrong.
   */
  async stop(): Promise<string[]> {
    const problems = await this.delAllPods();
    for (const r of this.relays.splice(0)) r.kill('SIGKILL');
    await this.operator?.stop().catch((e: Error) => problems.push(`operator stop: ${e.message}`));
    this.relayServer?.close();
    if (this.core) {
      await this.core.deleteCollectionNamespacedPod({ namespace: this.namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
      await this.core.deleteNamespace({ name: this.namespace }).catch(() => undefined);
      for (const n of this.o.nodes) await this.core.deleteNode({ name: n.name }).catch(() => undefined);
    }
    for (const p of this.o.pools) {
      await kubectl(['delete', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `${LABEL_BLOCK_POOL}=${poolLabelValue(p.name)}`, '--ignore-not-found']).catch((e: Error) => problems.push(e.message));
      await kubectl(['delete', 'spiderippool', p.name, '--ignore-not-found', '--wait=false']).catch((e: Error) => problems.push(e.message));
    }
    return problems;
  }
}
