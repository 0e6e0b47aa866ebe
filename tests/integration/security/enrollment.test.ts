// Node enrollment against the real control plane (ADR 0006): the /enroll handler with the real
// TokenReview API and real pod-bound ServiceAccount tokens (`kubectl create token --bound-object-kind
// Pod`), the node-side client writing its files, and the CA Secret created by racing managers.
//
// The installer pods are bound to a Node object we create (tainted, unschedulable) and never run:
// no kubelet is needed for a pod to exist, and a real Node keeps kube-controller-manager's PodGC from
// deleting pods bound to a missing node. Pods are force-deleted at the end (no kubelet confirms).
import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:https';
import { AuthenticationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import winston from 'winston';
import { createCA, ensureCA, kubeSecretStore, publishCABundle, type CertificateAuthority } from '../../../operator/src/security/ca.js';
import { ensureNodeCertificate } from '../../../operator/src/security/enroll-client.js';
import { createEnrollHandler, createEnrollServer, kubePodGetter, kubeTokenReviewer } from '../../../operator/src/security/enroll-server.js';
import { issueServerCertificate } from '../../../operator/src/security/issue.js';
import { nodeIdentityFromPeer } from '../../../operator/src/security/peer-identity.js';
import { EC_P256, generateP256, x509 } from '../../../operator/src/security/x509.js';
import { ensureCluster, kubectl, kubeconfigPath, repoRoot } from '../../support/cluster.js';
import { waitFor } from '../helpers/wait.js';

const suffix = randomBytes(3).toString('hex');
const ns = `sec-enroll-${suffix}`;
const NODE_A = 'sec-node-a';
const AUDIENCE = 'spiderpool-ts';

let core: CoreV1Api;
let ca: CertificateAuthority;
let server: Server;
let url: string;
let work: string;

function pod(name: string, sa: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: {
      serviceAccountName: sa,
      nodeName: NODE_A,
      tolerations: [{ operator: 'Exists' }],
      containers: [{ name: 'installer', image: 'registry.invalid/spiderpool-ts-plugin:test' }],
    },
  });
}

const token = (sa: string, podName?: string, audience = AUDIENCE) =>
  kubectl(['-n', ns, 'create', 'token', sa, `--audience=${audience}`, ...(podName ? ['--bound-object-kind=Pod', `--bound-object-name=${podName}`] : [])]).then((t) =>
    t.trim(),
  );

async function csrFor(cn: string): Promise<string> {
  const keys = await generateP256();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: new x509.Name([{ CN: [cn] }]), keys, signingAlgorithm: EC_P256 });
  return csr.toString('pem');
}

/** POST /enroll by hand: status and JSON body. */
function post(bearer: string | undefined, csr: string): Promise<{ status: number; body: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/enroll`,
      { method: 'POST', ca: ca.certPem, headers: { ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }), 'content-type': 'application/pkcs10' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string> }));
      },
    );
    req.on('error', reject);
    req.end(csr);
  });
}

beforeAll(async () => {
  await ensureCluster();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  work = await mkdtemp(join(tmpdir(), 'sec-enroll-'));

  await kubectl(['create', 'namespace', ns]);
  await kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: NODE_A, labels: { 'spiderpool-ts.io/test': 'security' } },
      spec: { unschedulable: true, taints: [{ key: 'spiderpool-ts.io/test', value: 'security', effect: 'NoSchedule' }] },
    }),
  });
  for (const sa of ['installer', 'intruder']) await kubectl(['-n', ns, 'create', 'serviceaccount', sa]);
  for (const [name, sa] of [
    ['inst-a', 'installer'],
    ['intr-a', 'intruder'],
    ['inst-gone', 'installer'],
    ['inst-term', 'installer'],
  ] as const) {
    await kubectl(['apply', '-f', '-'], { input: pod(name, sa) });
  }

  const created = await ensureCA(kubeSecretStore(core), { namespace: ns });
  if (!created.ok) throw new Error(created.error.message);
  ca = created.value.ca;
  const serverCert = await issueServerCertificate(ca, { dnsNames: ['spiderpool-ts-operator.test'], ipAddresses: ['127.0.0.1'] });
  const handler = createEnrollHandler({
    ca,
    installer: { namespace: ns, serviceAccount: 'installer' },
    audience: AUDIENCE,
    reviewToken: kubeTokenReviewer(kc.makeApiClient(AuthenticationV1Api)),
    getPod: kubePodGetter(core),
    log: winston.createLogger({ silent: true }),
  });
  server = createEnrollServer({ serverCert, handler });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60 * 60_000);

afterAll(async () => {
  await new Promise((res) => server?.close(res));
  await kubectl(['-n', ns, 'delete', 'pods', '--all', '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
  await kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
  await kubectl(['delete', 'node', NODE_A, '--ignore-not-found']);
  if (work) await rm(work, { recursive: true, force: true });
});

describe('enrollment with real bound ServiceAccount tokens', () => {
  test('the apiserver puts pod and node claims in the TokenReview extra (1.33: ServiceAccountTokenPodNodeInfo)', async () => {
    const t = await token('installer', 'inst-a');
    const review = await new KubeConfig();
    review.loadFromFile(kubeconfigPath);
    const status = await kubeTokenReviewer(review.makeApiClient(AuthenticationV1Api))(t, [AUDIENCE]);
    expect(status.authenticated).toBe(true);
    expect(status.user?.extra).toMatchObject({
      'authentication.kubernetes.io/pod-name': ['inst-a'],
      'authentication.kubernetes.io/pod-uid': [expect.any(String)],
      'authentication.kubernetes.io/node-name': [NODE_A],
      'authentication.kubernetes.io/node-uid': [expect.any(String)],
    });
  });

  test('the installer on sec-node-a enrolls; the files verify against the CA; a second run keeps them', async () => {
    const tokenFile = join(work, 'token-a');
    await writeFile(tokenFile, await token('installer', 'inst-a'));
    const caFile = join(work, 'anchor.crt');
    await writeFile(caFile, ca.certPem);
    const outDir = join(work, 'node-a');
    const opts = { url, nodeName: NODE_A, tokenFile, caFile, outDir };

    const first = await ensureNodeCertificate(opts);
    expect(first).toMatchObject({ ok: true, value: { action: 'enrolled', node: NODE_A, why: 'missing' } });
    const cert = new X509Certificate(await readFile(join(outDir, 'node.crt')));
    expect(cert.verify(ca.nodeCert.publicKey)).toBe(true);
    expect(cert.checkIssued(ca.nodeCert)).toBe(true);
    expect(cert.subject.split('\n').sort()).toEqual([`CN=${NODE_A}`, 'O=spiderpool-ts:nodes']);
    expect(nodeIdentityFromPeer(cert, { ca: ca.nodeCert })).toEqual({ ok: true, value: NODE_A });
    expect((await stat(join(outDir, 'node.key'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(outDir, 'ca.crt'), 'utf8')).toBe(ca.certPem);

    expect(await ensureNodeCertificate(opts)).toMatchObject({ ok: true, value: { action: 'kept' } });
    // Within 30 days of expiry (simulated by the clock): re-enrolls with a new key.
    const later = await ensureNodeCertificate({ ...opts, now: new Date(Date.now() + 340 * 86_400_000) });
    expect(later).toMatchObject({ ok: true, value: { action: 'enrolled', why: 'expiring' } });
  });

  test('the installer CLI (ipam-plugin/src/enroll.ts) enrolls, then keeps; a refusal exits 1 with the reason', async () => {
    const tokenFile = join(work, 'token-cli');
    await writeFile(tokenFile, await token('installer', 'inst-a'));
    const caFile = join(work, 'anchor.crt');
    await writeFile(caFile, ca.certPem);
    const run = (node: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--disable-warning=DEP0180', '--import', './hack/register-ts.mjs', 'ipam-plugin/src/enroll.ts', '--url', url, '--node-name', node,
            '--token-file', tokenFile, '--ca-file', caFile, '--out-dir', join(work, `cli-${node}`), '--retries', '0'],
          { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
          (e, stdout, stderr) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const first = await run(NODE_A);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout.trim())).toMatchObject({ action: 'enrolled', node: NODE_A, why: 'missing' });
    const second = await run(NODE_A);
    expect(JSON.parse(second.stdout.trim())).toMatchObject({ action: 'kept', node: NODE_A });
    const refused = await run('sec-node-b');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr.trim().split('\n').pop()!)).toMatchObject({ stage: 'refused', status: 403, reason: 'node-mismatch' });
  });

  test('the same token asking for sec-node-b is refused: 403 node-mismatch naming both nodes', async () => {
    const r = await post(await token('installer', 'inst-a'), await csrFor('sec-node-b'));
    expect(r.status).toBe(403);
    expect(r.body.reason).toBe('node-mismatch');
    expect(r.body.message).toContain('sec-node-b');
    expect(r.body.message).toContain(NODE_A);
  });

  test('the client refuses to enroll under another node name too (same answer through ensureNodeCertificate)', async () => {
    const tokenFile = join(work, 'token-b');
    await writeFile(tokenFile, await token('installer', 'inst-a'));
    const caFile = join(work, 'anchor.crt');
    await writeFile(caFile, ca.certPem);
    const r = await ensureNodeCertificate({ url, nodeName: 'sec-node-b', tokenFile, caFile, outDir: join(work, 'node-b') });
    expect(r).toMatchObject({ ok: false, error: { stage: 'refused', status: 403, reason: 'node-mismatch', retryable: false } });
  });

  test('a token of another ServiceAccount (bound to a pod on the same node) is refused: 403 wrong-service-account', async () => {
    const r = await post(await token('intruder', 'intr-a'), await csrFor(NODE_A));
    expect(r).toMatchObject({ status: 403, body: { reason: 'wrong-service-account' } });
    expect(r.body.message).toContain(`system:serviceaccount:${ns}:intruder`);
  });

  test('an installer token not bound to a pod is refused: 403 not-pod-bound', async () => {
    const r = await post(await token('installer'), await csrFor(NODE_A));
    expect(r).toMatchObject({ status: 403, body: { reason: 'not-pod-bound' } });
  });

  test('a token for another audience is refused by TokenReview: 401 token-invalid', async () => {
    const r = await post(await token('installer', 'inst-a', 'https://kubernetes.default.svc'), await csrFor(NODE_A));
    expect(r).toMatchObject({ status: 401, body: { reason: 'token-invalid' } });
    expect(r.body.message).toContain('audiences');
  });

  test('a token bound to a deleted pod is refused: 401 token-invalid (invalidated)', async () => {
    const t = await token('installer', 'inst-gone');
    expect((await post(t, await csrFor(NODE_A))).status).toBe(200); // valid while the pod exists
    await kubectl(['-n', ns, 'delete', 'pod', 'inst-gone', '--grace-period=0', '--force']);
    // Refused at once: either TokenReview already sees the pod gone, or its (watch-cache) view lags
    // our GET and the handler's own pod check refuses.
    const first = await post(t, await csrFor(NODE_A));
    expect([`401 token-invalid`, `403 pod-not-found`]).toContain(`${first.status} ${first.body.reason}`);
    const r = await waitFor(
      'TokenReview to invalidate the deleted pod\'s token',
      async () => {
        const res = await post(t, await csrFor(NODE_A));
        return { ok: res.status === 401, value: res, detail: `HTTP ${res.status} ${res.body.reason}` };
      },
      15_000,
      200,
    );
    expect(r).toMatchObject({ status: 401, body: { reason: 'token-invalid' } });
    expect(r.body.message).toContain('invalidated');
  });

  test('a token of a pod being deleted is refused: 403 pod-terminating', async () => {
    const t = await token('installer', 'inst-term');
    // No kubelet confirms the deletion: the pod keeps its deletionTimestamp until force-deleted.
    await kubectl(['-n', ns, 'delete', 'pod', 'inst-term', '--wait=false']);
    const r = await post(t, await csrFor(NODE_A));
    expect(r).toMatchObject({ status: 403, body: { reason: 'pod-terminating' } });
  });

  test('garbage and missing tokens are refused: 401', async () => {
    expect(await post('not-a-token', await csrFor(NODE_A))).toMatchObject({ status: 401, body: { reason: 'token-invalid' } });
    expect(await post(undefined, await csrFor(NODE_A))).toMatchObject({ status: 401, body: { reason: 'missing-token' } });
  });

  test('a malformed CSR from an authorised installer is 400 invalid-csr', async () => {
    expect(await post(await token('installer', 'inst-a'), 'hello')).toMatchObject({ status: 400, body: { reason: 'invalid-csr' } });
  });
});

describe('CA Secret on the apiserver', () => {
  test('racing managers end with one CA (one created, the others adopt it)', async () => {
    const name = `race-ca-${suffix}`;
    const store = kubeSecretStore(core);
    const results = await Promise.all([1, 2, 3, 4].map(() => ensureCA(store, { namespace: ns, name })));
    const pems = new Set(results.map((r) => (r.ok ? r.value.ca.certPem : `error: ${r.error.message}`)));
    expect(pems.size).toBe(1);
    const origins = results.map((r) => (r.ok ? r.value.origin : 'error'));
    expect(origins.filter((o) => o === 'created')).toHaveLength(1);
    expect(origins.every((o) => o === 'created' || o === 'adopted' || o === 'loaded')).toBe(true);
    const secret = await core.readNamespacedSecret({ namespace: ns, name });
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Buffer.from(secret.data!['ca.crt']!, 'base64').toString()).toBe([...pems][0]);
    // A restart loads it.
    const again = await ensureCA(store, { namespace: ns, name });
    expect(again).toMatchObject({ ok: true, value: { origin: 'loaded' } });
  });

  test('the CA bundle ConfigMap (the installer\'s trust anchor) is created, left alone, replaced on change', async () => {
    const name = `ca-bundle-${suffix}`;
    expect(await publishCABundle(core, { namespace: ns, name, caPem: ca.certPem })).toEqual({ ok: true, value: 'created' });
    expect(await publishCABundle(core, { namespace: ns, name, caPem: ca.certPem })).toEqual({ ok: true, value: 'unchanged' });
    const other = await createCA();
    expect(await publishCABundle(core, { namespace: ns, name, caPem: other.certPem })).toEqual({ ok: true, value: 'updated' });
    const cm = await core.readNamespacedConfigMap({ namespace: ns, name });
    expect(cm.data?.['ca.crt']).toBe(other.certPem);
  });
});
