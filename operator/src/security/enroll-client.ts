// The node side of enrollment (ADR 0006), run by the plugin installer on each node: keep a valid
// client certificate in `outDir` (node.key 0600, node.crt, ca.crt — the files the CNI config's
// tls_key_file / tls_cert_file / tls_ca_file name). Idempotent: a certificate for this node that
// chains to the trust anchor, matches its key and has more than `renewBeforeDays` left is kept;
// otherwise a fresh P-256 key is generated here, a CSR for CN=<node> is POSTed to the operator's
// /enroll with the pod's projected ServiceAccount token, and the answer is checked and written
// atomically. The private key never leaves the node.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { Result } from '../core/annotations/result.js';
import { DAY_MS, EC_P256, generateP256, privateKeyPem, x509 } from './x509.js';

export const NODE_KEY_FILE = 'node.key';
export const NODE_CERT_FILE = 'node.crt';
export const CA_FILE = 'ca.crt';

export interface EnrollClientOptions {
  /** the operator's enroll endpoint, e.g. https://spiderpool-ts-operator.kube-system.svc:9444 (path /enroll implied) */
  url: string;
  nodeName: string;
  /** the projected ServiceAccount token (audience spiderpool-ts), read fresh on every attempt */
  tokenFile: string;
  /** the CA certificate that must have signed the enroll server's certificate (a ConfigMap mount) */
  caFile: string;
  outDir: string;
  /** re-enroll when less than this is left; default 30 */
  renewBeforeDays?: number;
  /** TLS server name to verify; default: the URL host */
  serverName?: string;
  timeoutMs?: number;
  /** enroll even when the current certificate is fine */
  force?: boolean;
  now?: Date;
}

export type EnrollOutcome =
  | { action: 'kept'; node: string; notAfter: string }
  | { action: 'enrolled'; node: string; notAfter: string; why: 'missing' | 'expiring' | 'invalid' | 'forced' };

export interface EnrollClientError {
  stage: 'config' | 'token' | 'request' | 'refused' | 'response' | 'write';
  message: string;
  /** HTTP status and the server's reason, for stage 'refused' */
  status?: number;
  reason?: string;
  /** worth trying again later (network, 5xx) */
  retryable: boolean;
}

const err = (stage: EnrollClientError['stage'], message: string, retryable: boolean, extra: Partial<EnrollClientError> = {}) => ({
  ok: false as const,
  error: { stage, message, retryable, ...extra },
});

/** Why the certificate in outDir must be replaced, or undefined when it can stay. */
export async function currentCertificateProblem(
  opts: Pick<EnrollClientOptions, 'outDir' | 'nodeName' | 'renewBeforeDays' | 'now'>,
  anchor: X509Certificate,
): Promise<{ why: 'missing' | 'expiring' | 'invalid'; detail: string } | { why: undefined; notAfter: string }> {
  let certPem: string;
  let keyPem: string;
  try {
    certPem = await readFile(join(opts.outDir, NODE_CERT_FILE), 'utf8');
    keyPem = await readFile(join(opts.outDir, NODE_KEY_FILE), 'utf8');
    await readFile(join(opts.outDir, CA_FILE), 'utf8');
  } catch (e) {
    return { why: 'missing', detail: (e as Error).message };
  }
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return { why: 'invalid', detail: 'node.key is not the key of node.crt' };
    if (!cert.subject.split('\n').includes(`CN=${opts.nodeName}`)) return { why: 'invalid', detail: `node.crt is for ${JSON.stringify(cert.subject)}` };
    if (!cert.checkIssued(anchor) || !cert.verify(anchor.publicKey)) return { why: 'invalid', detail: 'node.crt was not issued by the CA in caFile' };
    const left = Date.parse(cert.validTo) - (opts.now ?? new Date()).getTime();
    if (left < (opts.renewBeforeDays ?? 30) * DAY_MS) return { why: 'expiring', detail: `expires ${cert.validTo}` };
    return { why: undefined, notAfter: new Date(cert.validTo).toISOString() };
  } catch (e) {
    return { why: 'invalid', detail: (e as Error).message };
  }
}

/** Makes sure outDir holds a valid certificate for this node; enrolls when it does not. */
export async function ensureNodeCertificate(opts: EnrollClientOptions): Promise<Result<EnrollOutcome, EnrollClientError>> {
  let anchorPem: string;
  let anchor: X509Certificate;
  try {
    anchorPem = await readFile(opts.caFile, 'utf8');
    anchor = new X509Certificate(anchorPem);
  } catch (e) {
    return err('config', `caFile ${opts.caFile}: ${(e as Error).message}`, false);
  }
  const problem = await currentCertificateProblem(opts, anchor);
  if (problem.why === undefined && !opts.force) return { ok: true, value: { action: 'kept', node: opts.nodeName, notAfter: problem.notAfter } };
  const why = problem.why ?? 'forced';

  let token: string;
  try {
    token = (await readFile(opts.tokenFile, 'utf8')).trim();
  } catch (e) {
    return err('token', `tokenFile ${opts.tokenFile}: ${(e as Error).message}`, true);
  }
  if (!token) return err('token', `tokenFile ${opts.tokenFile} is empty`, true);

  const keys = await generateP256();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: new x509.Name([{ CN: [opts.nodeName] }]),
    keys,
    signingAlgorithm: EC_P256,
  });
  const answer = await post(opts, anchorPem, token, csr.toString('pem'));
  if (!answer.ok) return answer;

  let certPem: string;
  try {
    const body = JSON.parse(answer.value.body) as { certificate?: unknown; notAfter?: unknown };
    if (typeof body.certificate !== 'string') throw new Error('no certificate in the answer');
    certPem = body.certificate;
    const cert = new X509Certificate(certPem);
    const keyPem = await privateKeyPem(keys.privateKey);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('the certificate is not for our key');
    if (!cert.subject.split('\n').includes(`CN=${opts.nodeName}`)) throw new Error(`the certificate is for ${JSON.stringify(cert.subject)}`);
    if (!cert.checkIssued(anchor) || !cert.verify(anchor.publicKey)) throw new Error('the certificate was not issued by the CA in caFile');
    try {
      await mkdir(opts.outDir, { recursive: true, mode: 0o755 });
      // Key first: a shim that starts between the two renames fails its handshake and the runtime
      // retries (CNI 11); never a key file readable by others.
      await writeAtomic(join(opts.outDir, NODE_KEY_FILE), keyPem, 0o600);
      await writeAtomic(join(opts.outDir, NODE_CERT_FILE), certPem, 0o644);
      await writeAtomic(join(opts.outDir, CA_FILE), anchorPem, 0o644);
    } catch (e) {
      return err('write', `${opts.outDir}: ${(e as Error).message}`, false);
    }
    return { ok: true, value: { action: 'enrolled', node: opts.nodeName, notAfter: new Date(cert.validTo).toISOString(), why } };
  } catch (e) {
    return err('response', `enroll answer rejected: ${(e as Error).message}`, false);
  }
}

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

function post(opts: EnrollClientOptions, caPem: string, token: string, csrPem: string): Promise<Result<{ body: string }, EnrollClientError>> {
  let url: URL;
  try {
    url = new URL(opts.url);
    if (url.protocol !== 'https:') throw new Error('must be https');
  } catch (e) {
    return Promise.resolve(err('config', `url ${opts.url}: ${(e as Error).message}`, false));
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/enroll';
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: caPem,
        // SNI carries names only (RFC 6066); an IP host is checked against the IP SANs.
        ...(isIP(opts.serverName ?? url.hostname.replace(/^\[|\]$/g, '')) ? {} : { servername: opts.serverName ?? url.hostname }),
        ...(opts.serverName ? { checkServerIdentity: checkAgainst(opts.serverName) } : {}),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pkcs10', 'content-length': Buffer.byteLength(csrPem) },
        timeout: opts.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status === 200) return resolve({ ok: true, value: { body } });
          let reason: string | undefined;
          let message = body.slice(0, 500);
          try {
            const j = JSON.parse(body) as { reason?: string; message?: string };
            reason = j.reason;
            message = j.message ?? message;
          } catch {
            // not our JSON (a proxy's page): keep the raw text
          }
          resolve(err('refused', `enroll refused (HTTP ${status}${reason ? ` ${reason}` : ''}): ${message}`, status >= 500, { status, ...(reason ? { reason } : {}) }));
        });
        res.on('error', (e) => resolve(err('request', e.message, true)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 15_000} ms`)));
    req.on('error', (e) => resolve(err('request', `POST ${url.href}: ${e.message}`, true)));
    req.end(csrPem);
  });
}

/** Verify the server certificate against `name` instead of the URL host (connecting by IP to a DNS-named cert). */
function checkAgainst(name: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => checkServerIdentity(name, cert);
}
