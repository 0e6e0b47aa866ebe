// The node side of enrollment against a loopback /enroll (TokenReview and pod lookups injected; the
// real ones: tests/integration/security). What matters here: the token goes only to a server the
// anchor vouches for, the answer is checked before anything is written, files and modes.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import winston from 'winston';
import { createCA, type CertificateAuthority } from '../../src/security/ca.js';
import { ensureNodeCertificate } from '../../src/security/enroll-client.js';
import { createEnrollHandler, createEnrollServer } from '../../src/security/enroll-server.js';
import { issueServerCertificate } from '../../src/security/issue.js';

let ca: CertificateAuthority;
let dir: string;
const seenTokens: string[] = [];

async function serve(serverCa: CertificateAuthority, handler?: (req: IncomingMessage, res: ServerResponse) => void) {
  const cert = await issueServerCertificate(serverCa, { dnsNames: ['operator.test'], ipAddresses: ['127.0.0.1'] });
  const enroll = createEnrollHandler({
    ca: serverCa,
    installer: { namespace: 'ns', serviceAccount: 'sa' },
    reviewToken: async (token) => {
      seenTokens.push(token);
      return {
        authenticated: true,
        audiences: ['spiderpool-ts'],
        user: { username: 'system:serviceaccount:ns:sa', extra: { 'authentication.kubernetes.io/pod-name': ['p'], 'authentication.kubernetes.io/pod-uid': ['u'] } },
      };
    },
    getPod: async () => ({ metadata: { uid: 'u' }, spec: { containers: [], serviceAccountName: 'sa', nodeName: 'worker-1' } }),
    log: winston.createLogger({ silent: true }),
  });
  const server = createEnrollServer({ serverCert: cert, handler: handler ?? enroll });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  ca = await createCA();
  dir = await mkdtemp(join(tmpdir(), 'enroll-client-'));
  await writeFile(join(dir, 'token'), 'secret-token\n');
  await writeFile(join(dir, 'anchor.crt'), ca.certPem);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const opts = (url: string, outDir: string, over: object = {}) => ({
  url,
  nodeName: 'worker-1',
  tokenFile: join(dir, 'token'),
  caFile: join(dir, 'anchor.crt'),
  outDir: join(dir, outDir),
  ...over,
});

test('enrolls once, keeps afterwards, --force re-enrolls with a new key; key 0600', async () => {
  const { server, url } = await serve(ca);
  try {
    expect(await ensureNodeCertificate(opts(url, 'a'))).toMatchObject({ ok: true, value: { action: 'enrolled', why: 'missing' } });
    expect(seenTokens.at(-1)).toBe('secret-token');
    const key1 = await readFile(join(dir, 'a', 'node.key'), 'utf8');
    expect((await stat(join(dir, 'a', 'node.key'))).mode & 0o777).toBe(0o600);
    expect(await ensureNodeCertificate(opts(url, 'a'))).toMatchObject({ ok: true, value: { action: 'kept' } });
    expect(await ensureNodeCertificate(opts(url, 'a', { force: true }))).toMatchObject({ ok: true, value: { action: 'enrolled', why: 'forced' } });
    expect(await readFile(join(dir, 'a', 'node.key'), 'utf8')).not.toBe(key1);
    // a key that is not the certificate's (e.g. a half-finished earlier write) is replaced
    await writeFile(join(dir, 'a', 'node.key'), key1);
    expect(await ensureNodeCertificate(opts(url, 'a'))).toMatchObject({ ok: true, value: { action: 'enrolled', why: 'invalid' } });
  } finally {
    server.close();
  }
});

test('a server whose certificate the anchor does not vouch for never sees the token', async () => {
  const impostor = await createCA({ commonName: 'impostor' });
  const { server, url } = await serve(impostor);
  const before = seenTokens.length;
  try {
    const r = await ensureNodeCertificate(opts(url, 'b'));
    expect(r).toMatchObject({ ok: false, error: { stage: 'request', retryable: true } });
    expect(seenTokens.length).toBe(before);
  } finally {
    server.close();
  }
});

test('an answer with a certificate for another key or node is rejected and nothing is written', async () => {
  const other = await createCA();
  const { server, url } = await serve(ca, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ certificate: other.certPem, ca: ca.certPem, notAfter: '' }));
  });
  try {
    const r = await ensureNodeCertificate(opts(url, 'c'));
    expect(r).toMatchObject({ ok: false, error: { stage: 'response', retryable: false } });
    await expect(stat(join(dir, 'c', 'node.key'))).rejects.toThrow('ENOENT');
  } finally {
    server.close();
  }
});

test('config errors: missing anchor, http URL', async () => {
  expect(await ensureNodeCertificate(opts('https://127.0.0.1:1', 'd', { caFile: join(dir, 'none') }))).toMatchObject({ ok: false, error: { stage: 'config' } });
  expect(await ensureNodeCertificate(opts('http://127.0.0.1:1', 'd'))).toMatchObject({ ok: false, error: { stage: 'config' } });
});
