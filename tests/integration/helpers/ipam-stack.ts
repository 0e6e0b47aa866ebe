// The pieces that put our IPAM under simulated nodes, shared by the allocation-path e2e test and
// `npm run demo`:
//   buildShimInto   `npm run build -w ipam-plugin`, the shim copied into a CNI dir next to Debian's
//                   macvlan/loopback (copied: a concurrent build elsewhere empties ipam-plugin/dist);
//   writePki        the operator's own CA code: a server certificate for 127.0.0.1 and one client
//                   certificate per node (CN = node, O = spiderpool-ts:nodes) in <certDir>/<node>/;
//   writeShimConflist  macvlan with the shim as IPAM, per-node certificates via ${NODE_NAME};
//   operatorEnv     the operator's environment (operator/src/config.ts) for a local process;
//   startOperatorRelay / startNodeRelay  how the shim reaches the operator: the shim runs inside the
//                   node's namespace (spts-node-<node>), where the host's 127.0.0.1 does not exist. A
//                   relay in each node namespace listens on 127.0.0.1:<port> there and pipes to a unix
//                   socket, served from the root namespace towards the operator's TCP port
//                   (netns-tool.mjs). The shim dials 127.0.0.1 and verifies the operator's
//                   certificate for 127.0.0.1, as it would a Service address;
//   applyIpamBlockCrd / createNamespaceAndPool / waitNodesReady / printedPoolCounts / removeRunObjects
//                   the cluster side of an e2e run (also used by the leader-failover e2e).
import { type ChildProcess, execFileSync, spawn, type StdioOptions } from 'node:child_process';
import { chmodSync, copyFileSync, createWriteStream, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { createCA, issueServerCertificate, signNodeCsr } from '../../../operator/src/security/index.js';
import { EC_P256, generateP256, privateKeyPem, x509 } from '../../../operator/src/security/x509.js';
import type { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { LABEL_BLOCK_POOL } from '../../../operator/src/api/internal/ipamblock.js';
import { poolLabelValue } from '../../../operator/src/service/block-layout.js';
import { nodeNetns } from '../../nodesim/netns.js';
import { kubectl, repoRoot } from '../../support/cluster.js';
import { tail } from './operator-process.js';
import type { Probe } from './wait.js';

export const SHIM = 'spiderpool-ts-ipam';
/** The node-local agent's bundle (ADR 0013), copied beside the shim by buildShimInto. */
export const AGENT_BUNDLE = 'spiderpool-ts-agent.mjs';
export const NETNS_TOOL = join(repoRoot, 'tests', 'integration', 'e2e', 'netns-tool.mjs');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Builds the shim and lays out a CNI bin dir: the shim (copied), macvlan and loopback (symlinks to
 * /usr/lib/cni). `stdio` is the build's (default: quiet, stderr kept for the error).
 */
export function buildShimInto(cniBin: string, stdio: StdioOptions = ['ignore', 'ignore', 'pipe'], timeoutMs = 180_000): void {
  execFileSync('npm', ['run', 'build', '-w', 'ipam-plugin'], { cwd: repoRoot, stdio, timeout: timeoutMs });
  mkdirSync(cniBin, { recursive: true });
  copyFileSync(join(repoRoot, 'ipam-plugin', 'dist', SHIM), join(cniBin, SHIM));
  chmodSync(join(cniBin, SHIM), 0o755);
  copyFileSync(join(repoRoot, 'ipam-plugin', 'dist', AGENT_BUNDLE), join(cniBin, AGENT_BUNDLE));
  for (const p of ['macvlan', 'loopback']) symlinkSync(`/usr/lib/cni/${p}`, join(cniBin, p));
}

type CA = Awaited<ReturnType<typeof createCA>>;

async function makeNodeCert(ca: CA, certDir: string, node: string): Promise<void> {
  const keys = await generateP256();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: new x509.Name([{ CN: [node] }]), keys, signingAlgorithm: EC_P256 });
  const signed = await signNodeCsr(ca, csr.toString('pem'), { nodeName: node });
  if (!signed.ok) throw new Error(`node certificate for ${node}: ${signed.error.message}`);
  const dir = join(certDir, node);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'node.key'), await privateKeyPem(keys.privateKey), { mode: 0o600 });
  writeFileSync(join(dir, 'node.crt'), signed.value.certPem);
  writeFileSync(join(dir, 'ca.crt'), ca.certPem);
}

/** <certDir>/{server.crt,server.key,ca.crt} (server for 127.0.0.1 + `dnsName`) and <certDir>/<node>/{node.crt,node.key,ca.crt}. */
export async function writePki(certDir: string, opts: { caName: string; dnsName: string; nodes: readonly string[] }): Promise<void> {
  const ca = await createCA({ commonName: opts.caName });
  const server = await issueServerCertificate(ca, { dnsNames: [opts.dnsName], ipAddresses: ['127.0.0.1'] });
  mkdirSync(certDir, { recursive: true });
  writeFileSync(join(certDir, 'server.crt'), server.chainPem);
  writeFileSync(join(certDir, 'server.key'), server.keyPem, { mode: 0o600 });
  writeFileSync(join(certDir, 'ca.crt'), ca.certPem);
  for (const n of opts.nodes) await makeNodeCert(ca, certDir, n);
}

/**
 * A conflist: macvlan on the node's eth0 with the shim as IPAM, dialing 127.0.0.1:<relayPort> — or,
 * with `agentSocket` (may hold ${NODE_NAME}), asking the node's spiderpool-ts-agent on that socket.
 */
export function writeShimConflist(file: string, opts: { network: string; certDir: string; relayPort: number; agentSocket?: string }): string {
  const { certDir } = opts;
  const transport = opts.agentSocket
    ? { agent_socket: opts.agentSocket }
    : {
        operator_endpoint: `127.0.0.1:${opts.relayPort}`,
        tls_ca_file: join(certDir, '${NODE_NAME}', 'ca.crt'),
        tls_cert_file: join(certDir, '${NODE_NAME}', 'node.crt'),
        tls_key_file: join(certDir, '${NODE_NAME}', 'node.key'),
      };
  const conf = {
    cniVersion: '1.0.0',
    name: opts.network,
    plugins: [
      {
        type: 'macvlan',
        master: 'eth0',
        mode: 'bridge',
        ipam: {
          type: SHIM,
          ...transport,
          timeout_ms: 10_000,
          log_file_path: '${NODE_STATE_DIR}/spiderpool-ts-ipam.log',
          log_level: 'info',
          node_name: '${NODE_NAME}',
        },
      },
    ],
  };
  writeFileSync(file, JSON.stringify(conf, null, 2));
  return file;
}

/** The operator's environment for a local process serving gRPC on 127.0.0.1:<grpcPort> with <certDir>'s certificates. */
export function operatorEnv(opts: { kubeconfig: string; podName: string; namespace: string; certDir: string; grpcPort: number; healthPort: number }): Record<string, string> {
  return {
    KUBECONFIG: opts.kubeconfig,
    POD_NAME: opts.podName,
    POD_NAMESPACE: opts.namespace,
    LEASE_NAME: 'spiderpool-ts-operator',
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(opts.grpcPort),
    GRPC_ADVERTISE_ADDRESS: `127.0.0.1:${opts.grpcPort}`,
    TLS_CERT_FILE: join(opts.certDir, 'server.crt'),
    TLS_KEY_FILE: join(opts.certDir, 'server.key'),
    CLIENT_CA_FILE: join(opts.certDir, 'ca.crt'),
    HEALTH_PORT: String(opts.healthPort),
    ENABLE_IPV4: 'true',
    ENABLE_IPV6: 'false',
    LOG_LEVEL: 'info',
  };
}

/** The root-namespace end of the relays: unix socket `socketPath` -> 127.0.0.1:<port>. */
export async function startOperatorRelay(socketPath: string, port: number): Promise<Server> {
  const server = createServer((inbound) => {
    const outbound = connect(port, '127.0.0.1');
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    const close = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', close);
    outbound.on('error', close);
    inbound.on('close', close);
    outbound.on('close', close);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return server;
}

/** `node netns-tool.mjs <args>` inside netns `ns`, resolved once it prints "ready". */
export function startInNetns(ns: string, args: string[], logFile: string, timeoutMs = 15_000): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, NETNS_TOOL, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stderr!.pipe(log);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} in ${ns} not ready within ${timeoutMs} ms (log ${logFile})`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString('utf8').includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} in ${ns} exited (${code ?? signal}) before ready: ${tail(logFile, 5)}`));
    });
  });
}

/** The node's end: 127.0.0.1:<port> inside spts-node-<node> -> unix socket `socketPath`. */
export function startNodeRelay(node: string, port: number, socketPath: string, logFile: string): Promise<ChildProcess> {
  return startInNetns(nodeNetns(node), ['relay', '127.0.0.1', String(port), socketPath], logFile);
}

type Wait = <T>(what: string, probe: () => Promise<Probe<T>>, timeoutMs: number, intervalMs?: number) => Promise<T>;

/** Waits until the `count` nodes labelled `label` are Ready without node.kubernetes.io taints. */
export async function waitNodesReady(wait: Wait, core: CoreV1Api, label: string, count: number, what: string, timeoutMs = 90_000): Promise<void> {
  await wait(
    what,
    async () => {
      const items = (await core.listNode({ labelSelector: label })).items;
      const ready = items.filter(
        (n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !(n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/')),
      );
      return { ok: ready.length === count, detail: `${ready.length}/${count} ready` };
    },
    timeoutMs,
  );
}

/**
 * The cluster side of an e2e run's cleanup, after its nodes and operators have stopped: the
 * namespace's pods and the namespace, the simulated Node objects and their Leases, the pool's
 * IPAMBlocks and the pool, then `nodesim cleanup` on the state dir (a failure reported with `prefix`).
 */
export async function removeRunObjects(opts: { core?: CoreV1Api; coord?: CoordinationV1Api; namespace: string; nodes: readonly string[]; pool: string; stateDir: string; prefix: string }): Promise<void> {
  const { core, coord, namespace, nodes, pool } = opts;
  if (core) {
    await core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    for (const n of nodes) {
      await core.deleteNode({ name: n }).catch(() => undefined);
      await coord?.deleteNamespacedLease({ name: n, namespace: 'kube-node-lease' }).catch(() => undefined);
    }
  }
  await kubectl(['delete', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `${LABEL_BLOCK_POOL}=${poolLabelValue(pool)}`, '--ignore-not-found']).catch(() => undefined);
  await kubectl(['delete', 'spiderippool', pool, '--ignore-not-found']).catch(() => undefined);
  try {
    execFileSync(process.execPath, ['--disable-warning=DEP0180', '--import', './hack/register-ts.mjs', 'tests/nodesim/main.ts', 'cleanup', '--state-dir', opts.stateDir, '--nodes', nodes.join(',')], { cwd: repoRoot, stdio: 'ignore' });
  } catch (e) {
    process.stderr.write(`${opts.prefix}: nodesim cleanup failed: ${(e as Error).message}\n`);
  }
}

/** Applies crds/internal's IPAMBlock CRD (server-side) and waits until it is Established. */
export async function applyIpamBlockCrd(): Promise<void> {
  await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=spiderpool-ts-tests', '-f', join(repoRoot, 'crds', 'internal', 'ipam.spiderpool-ts.io_ipamblocks.yaml')]);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/ipamblocks.ipam.spiderpool-ts.io']);
}

/** Creates `namespace`, waits for its default ServiceAccount, and applies the SpiderIPPool `pool`. */
export async function createNamespaceAndPool(wait: Wait, core: CoreV1Api, opts: { namespace: string; pool: string; subnet: string; ips: string[]; gateway: string }): Promise<void> {
  const { namespace } = opts;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await wait('default ServiceAccount', async () => {
    const sa = await core.readNamespacedServiceAccount({ name: 'default', namespace }).catch(() => undefined);
    return { ok: !!sa, detail: 'absent' };
  }, 60_000);
  await kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderIPPool', metadata: { name: opts.pool }, spec: { subnet: opts.subnet, ips: opts.ips, gateway: opts.gateway } }),
  });
}

/** `kubectl get spiderippool <pool>` as printed: ALLOCATED-IP-COUNT, TOTAL-IP-COUNT, FREE columns. */
export async function printedPoolCounts(pool: string): Promise<{ table: string; allocated: string; total: string; free: string }> {
  const table = await kubectl(['get', 'spiderippool', pool]);
  const [header = '', row = ''] = table.split('\n');
  const cols = [...header.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index }));
  const cell = (name: string): string => {
    const i = cols.findIndex((c) => c.name === name);
    if (i < 0) return `(no column ${name})`;
    return row.slice(cols[i]!.at, cols[i + 1]?.at ?? row.length).trim();
  };
  return { table, allocated: cell('ALLOCATED-IP-COUNT'), total: cell('TOTAL-IP-COUNT'), free: cell('FREE') };
}
