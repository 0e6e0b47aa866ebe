// Proof that config/rbac is SUFFICIENT, not only tight: the real operator process (operator/src/main.ts)
// runs with a kubeconfig holding nothing but a token of the operator's ServiceAccount (TokenRequest,
// `kubectl create token`), after config/rbac was applied into this test's namespace under unique
// names. In TLS_MODE=operator-ca, as the Deployment runs it, it must: create its CA Secret and the CA
// bundle ConfigMap, hold its Lease, sync every cache, enroll a node through /enroll — run by the real
// installer bundle (ipam-plugin/src/install.ts) with a pod-bound installer token: TokenReview, pod
// read —, allocate over mTLS with the certificate the installer wrote (IPAMBlock
// writes), derive the pool status and the SpiderEndpoint, and release when the pod is deleted — with
// no "forbidden" in its log.
import { credentials, Metadata, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { KubeConfig } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABEL_BLOCK_POOL } from '../../../operator/src/api/internal/ipamblock.js';
import type { SpiderEndpoint, SpiderIPPool } from '../../../operator/src/api/v2beta1/types.js';
import type { AllocateRequest } from '../../../operator/src/rpc/gen/spiderpool_ts/ipam/v1/ipam.js';
import { ipamServiceDefinition } from '../../../operator/src/rpc/grpc-service.js';
import { poolLabelValue } from '../../../operator/src/service/block-layout.js';
import { parse } from 'yaml';
import { kubeconfigPath, kubectl, repoRoot } from '../../support/cluster.js';
import { createTestNamespace, type TestNamespace } from '../../support/test-namespace.js';
import { freePort } from '../helpers/ipam-stack.js';
import { OperatorProcess, tail } from '../helpers/operator-process.js';
import { type Probe, waitFor } from '../helpers/wait.js';
import { makeOverlay, parseManifests } from './overlay.js';

let t: TestNamespace;
let dir: string;
let prefix: string;
let pool: string;
let operator: OperatorProcess | undefined;
const clusterScoped: string[] = [];

/** A kubeconfig for the local apiserver that authenticates with `token` only. */
function tokenKubeconfig(file: string, token: string): void {
  const admin = new KubeConfig();
  admin.loadFromFile(kubeconfigPath);
  const cluster = admin.getCurrentCluster()!;
  const caData = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined);
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server: cluster.server, ...(caData ? { 'certificate-authority-data': caData } : {}) } }],
    users: [{ name: 'operator-sa', user: { token } }],
    contexts: [{ name: 'operator-sa', context: { cluster: 'local', user: 'operator-sa' } }],
    'current-context': 'operator-sa',
  };
  writeFileSync(file, JSON.stringify(cfg), { mode: 0o600 });
}

beforeAll(async () => {
  t = await createTestNamespace('deploy-op');
  prefix = `${t.ns}-`;
  pool = `${t.ns}-pool`;
  dir = mkdtempSync(join(tmpdir(), 'spts-deploy-op-'));
  const overlay = makeOverlay('config/rbac', { namespace: t.ns, namePrefix: prefix });
  try {
    for (const o of parseManifests(await overlay.build())) if (!o.metadata.namespace) clusterScoped.push(`${o.kind.toLowerCase()}/${o.metadata.name}`);
    await kubectl(['apply', '-k', overlay.dir, '--server-side', '--field-manager=spiderpool-ts-deploy-test']);
  } finally {
    overlay.remove();
  }
});

afterAll(async () => {
  if (operator) {
    await operator.stop();
    if (process.env.TEST_KEEP_LOGS !== '1') rmSync(dir, { recursive: true, force: true });
  }
  if (!t) return;
  await kubectl(['delete', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `${LABEL_BLOCK_POOL}=${poolLabelValue(pool)}`, '--ignore-not-found']).catch(() => undefined);
  await kubectl(['delete', 'spiderippool', pool, '--ignore-not-found']).catch(() => undefined);
  for (const o of clusterScoped) await kubectl(['delete', o, '--ignore-not-found']).catch(() => undefined);
  await kubectl(['delete', 'namespace', t.ns, '--wait=false', '--ignore-not-found']);
  await kubectl(['delete', 'node', t.node, '--ignore-not-found']);
});

test('the operator runs, the installer enrolls a node, and Allocate works with only the operator ServiceAccount token under config/rbac', async () => {
  const operatorSA = `${prefix}spiderpool-ts-operator`;
  const installerSA = `${prefix}spiderpool-ts-installer`;
  const serverName = `spiderpool-ts-operator.${t.ns}.svc`;
  // The binding must be visible to the authorizer before the operator's first call.
  await waitFor(
    'the operator binding to take effect',
    async () => {
      const out = await kubectl(['auth', 'can-i', 'list', 'pods', '--all-namespaces', `--as=system:serviceaccount:${t.ns}:${operatorSA}`]).catch(() => 'no');
      return { ok: out.trim() === 'yes', detail: out };
    },
    30_000,
    200,
  );
  const kubeconfig = join(dir, 'operator.kubeconfig');
  tokenKubeconfig(kubeconfig, (await kubectl(['create', 'token', operatorSA, '-n', t.ns, '--duration=1h'])).trim());

  const [grpcPort, healthPort, enrollPort] = [await freePort(), await freePort(), await freePort()];
  operator = new OperatorProcess(
    {
      KUBECONFIG: kubeconfig,
      POD_NAME: `${t.ns}-operator-0`,
      POD_NAMESPACE: t.ns,
      LEASE_NAME: 'spiderpool-ts-operator',
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(grpcPort),
      GRPC_ADVERTISE_ADDRESS: `127.0.0.1:${grpcPort}`,
      HEALTH_PORT: String(healthPort),
      TLS_MODE: 'operator-ca',
      SERVER_DNS_NAMES: serverName,
      SERVER_IP_ADDRESSES: '127.0.0.1',
      ENROLL_PORT: String(enrollPort),
      INSTALLER_SERVICE_ACCOUNT: installerSA,
      ENABLE_IPV4: 'true',
      ENABLE_IPV6: 'false',
      LOG_LEVEL: 'info',
      // This operator leads its own Lease on a cluster other tests share: its GC and auto-pool
      // controllers would act on their objects too. Off here; the RBAC they need is in the table.
      GC_IP_ENABLED: 'false',
      ENABLE_AUTO_POOL: 'false',
    },
    join(dir, 'operator.log'),
  );
  await operator.start();

  // It created its CA Secret (readable to it by name only) and published the bundle.
  expect(await kubectl(['get', 'secret', 'spiderpool-ts-ca', '-n', t.ns, '-o', 'jsonpath={.type}'])).toBe('kubernetes.io/tls');
  const caPem = JSON.parse(await kubectl(['get', 'configmap', 'spiderpool-ts-ca-bundle', '-n', t.ns, '-o', 'json'])).data['ca.crt'] as string;
  expect(caPem).toContain('BEGIN CERTIFICATE');
  expect(await kubectl(['get', 'lease', 'spiderpool-ts-operator', '-n', t.ns, '-o', 'jsonpath={.spec.holderIdentity}'])).toBe(`${t.ns}-operator-0@127.0.0.1:${grpcPort}`);

  // Enrollment as the installer DaemonSet pod on t.node does it: a pod of the installer account on
  // the node, its pod-bound token for audience spiderpool-ts, the bundle as trust anchor.
  const installerPod = 'installer-x';
  await kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: installerPod, namespace: t.ns },
      spec: { nodeName: t.node, serviceAccountName: installerSA, automountServiceAccountToken: false, tolerations: [{ operator: 'Exists' }], containers: [{ name: 'c', image: 'registry.invalid/installer:1' }] },
    }),
  });
  const installerUid = (await kubectl(['get', 'pod', installerPod, '-n', t.ns, '-o', 'jsonpath={.metadata.uid}'])).trim();
  const tokenFile = join(dir, 'enroll-token');
  writeFileSync(
    tokenFile,
    await kubectl(['create', 'token', installerSA, '-n', t.ns, '--audience=spiderpool-ts', '--bound-object-kind=Pod', `--bound-object-name=${installerPod}`, `--bound-object-uid=${installerUid}`, '--duration=10m']),
  );
  const caFile = join(dir, 'bundle-ca.crt');
  writeFileSync(caFile, caPem);

  // The installer itself, bundled as the image runs it, against a fake host root: copy, enroll, CNI
  // config from the shipped template; /enroll and the gRPC endpoint from the kubelet's Service variables.
  const host = join(dir, 'host');
  const certDir = join(host, 'etc', 'cni', 'net.d', 'spiderpool-ts');
  const template = join(dir, 'conflist.template');
  writeFileSync(template, (parse(readFileSync(join(repoRoot, 'config', 'installer', 'cni-config.yaml'), 'utf8')) as { data: Record<string, string> }).data['conflist.template']!);
  const shimSource = join(dir, 'shim-source');
  writeFileSync(shimSource, '#!/bin/sh\nexit 0\n');
  execFileSync(process.execPath, [join(repoRoot, 'ipam-plugin', 'scripts', 'build.mjs'), '--installer-out', dir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  const runInstaller = () =>
    execFileSync(process.execPath, [join(dir, 'spiderpool-ts-install.mjs')], {
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        NODE_NAME: t.node,
        TLS_SERVER_NAME: serverName,
        SPIDERPOOL_TS_OPERATOR_SERVICE_HOST: '127.0.0.1',
        SPIDERPOOL_TS_OPERATOR_SERVICE_PORT_GRPC: String(grpcPort),
        SPIDERPOOL_TS_OPERATOR_SERVICE_PORT_ENROLL: String(enrollPort),
        ENROLL_TOKEN_FILE: tokenFile,
        ENROLL_CA_FILE: caFile,
        CERT_DIR: '/etc/cni/net.d/spiderpool-ts',
        CERT_OUT_DIR: certDir,
        SHIM_SOURCE: shimSource,
        CNI_BIN_DIR: join(host, 'opt', 'cni', 'bin'),
        CNI_NET_DIR: join(host, 'etc', 'cni', 'net.d'),
        CNI_CONF_TEMPLATE: template,
        CNI_CONF_NAME: '90-spiderpool-ts-macvlan.conflist',
      },
    })
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  let steps: Record<string, unknown>[];
  try {
    steps = runInstaller();
  } catch (e) {
    throw new Error(`installer failed: ${(e as { stderr?: string }).stderr ?? e}\n${tail(operator.logFile)}`);
  }
  expect(steps).toEqual([
    expect.objectContaining({ step: 'copy', result: 'written' }),
    expect.objectContaining({ step: 'enroll', action: 'enrolled', node: t.node, why: 'missing' }),
    expect.objectContaining({ step: 'config', operatorEndpoint: `127.0.0.1:${grpcPort}`, result: 'written' }),
  ]);
  expect(statSync(join(host, 'opt', 'cni', 'bin', 'spiderpool-ts-ipam')).mode & 0o777).toBe(0o755);
  expect(statSync(join(certDir, 'node.key')).mode & 0o777).toBe(0o600);
  const conflist = JSON.parse(readFileSync(join(host, 'etc', 'cni', 'net.d', '90-spiderpool-ts-macvlan.conflist'), 'utf8')) as { plugins: { ipam: Record<string, unknown> }[] };
  expect(conflist.plugins[0]!.ipam).toMatchObject({ operator_endpoint: `127.0.0.1:${grpcPort}`, node_name: t.node, tls_cert_file: '/etc/cni/net.d/spiderpool-ts/node.crt', tls_server_name: serverName });
  // A restarted installer pod changes nothing: same binary, certificate kept, same config.
  expect(runInstaller()).toEqual([
    expect.objectContaining({ step: 'copy', result: 'unchanged' }),
    expect.objectContaining({ step: 'enroll', action: 'kept' }),
    expect.objectContaining({ step: 'config', result: 'unchanged' }),
  ]);

  // A pool and a pod on the node (as the admin: that is the user's part), then Allocate over mTLS.
  await kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderIPPool', metadata: { name: pool }, spec: { subnet: '10.251.0.0/16', ips: ['10.251.7.10-10.251.7.19'], gateway: '10.251.0.1' } }),
  });
  await kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'app-0', namespace: t.ns, annotations: { 'ipam.spidernet.io/ippool': JSON.stringify({ ipv4: [pool] }) } },
      spec: { nodeName: t.node, automountServiceAccountToken: false, tolerations: [{ operator: 'Exists' }], containers: [{ name: 'c', image: 'registry.invalid/pause:1' }] },
    }),
  });
  const uid = (await kubectl(['get', 'pod', 'app-0', '-n', t.ns, '-o', 'jsonpath={.metadata.uid}'])).trim();
  const Client = makeGenericClientConstructor(ipamServiceDefinition, 'IPAM');
  const client = new Client(
    `127.0.0.1:${grpcPort}`,
    credentials.createSsl(Buffer.from(caPem), readFileSync(join(certDir, 'node.key')), readFileSync(join(certDir, 'node.crt'))),
    { 'grpc.ssl_target_name_override': serverName },
  );
  const call = (method: string, req: object) =>
    new Promise<unknown>((resolve, reject) =>
      (client as unknown as Record<string, (r: object, m: Metadata, cb: (e: ServiceError | null, r: unknown) => void) => void>)[method]!.call(client, req, new Metadata(), (e, r) => (e ? reject(e) : resolve(r))),
    );
  try {
    const req: AllocateRequest = {
      containerId: 'cid-app-0',
      netns: '',
      ifname: 'eth0',
      pod: { namespace: t.ns, name: 'app-0', uid },
      nodeName: t.node,
      defaultIpv4Ippool: [],
      defaultIpv6Ippool: [],
      requestId: 'deploy-rbac',
      networkName: '',
    };
    // The allocator term starts when leadership is won; a moment after /readyz it may still rebuild.
    const res = await waitFor(
      'Allocate to succeed',
      async (): Promise<Probe<{ ips: { address: string; pool: string }[] }>> => {
        try {
          return { ok: true, value: (await call('allocate', req)) as { ips: { address: string; pool: string }[] }, detail: 'allocated' };
        } catch (e) {
          return { ok: false, detail: (e as Error).message };
        }
      },
      30_000,
    );
    expect(res.ips).toHaveLength(1);
    expect(res.ips[0]).toMatchObject({ pool, address: expect.stringMatching(/^10\.251\.7\.1\d\/16$/) });
    const ip = res.ips[0]!.address.split('/')[0]!;

    // Derived views, written under the same RBAC: pool status and the pod's SpiderEndpoint.
    await waitFor(
      'pool status allocatedIPCount 1 and the SpiderEndpoint',
      async () => {
        const p = JSON.parse(await kubectl(['get', 'spiderippool', pool, '-o', 'json'])) as SpiderIPPool;
        const ep = JSON.parse(await kubectl(['get', 'spiderendpoints', '-n', t.ns, '-o', 'json'])) as { items: SpiderEndpoint[] };
        const e = ep.items.find((x) => x.metadata?.name === 'app-0');
        const ok = p.status?.allocatedIPCount === 1 && JSON.stringify(e?.status ?? {}).includes(ip);
        return { ok, detail: `allocatedIPCount=${p.status?.allocatedIPCount}, endpoint=${JSON.stringify(e?.status)}` };
      },
      60_000,
    );

    // The pod goes away: the leader's pod-release path frees its address (a CNI DEL of a live pod
    // would keep it for the pod's next sandbox), and the status follows.
    await kubectl(['delete', 'pod', 'app-0', '-n', t.ns, '--grace-period=0', '--force', '--wait=false']);
    await waitFor(
      'the address released after the pod is gone',
      async () => {
        const p = JSON.parse(await kubectl(['get', 'spiderippool', pool, '-o', 'json'])) as SpiderIPPool;
        return { ok: p.status?.allocatedIPCount === 0, detail: `allocatedIPCount=${p.status?.allocatedIPCount}` };
      },
      60_000,
    );
  } finally {
    client.close();
  }

  // Nothing it tried was refused.
  const log = readFileSync(operator.logFile, 'utf8');
  const refused = log.split('\n').filter((l) => /forbidden|\b403\b/i.test(l));
  expect(refused).toEqual([]);
});
