// POST /enroll: how a node gets its client certificate (ADR 0006).
//
// The plugin installer (a DaemonSet pod on node N) sends a PKCS#10 CSR (PEM; the key never leaves
// the node) with its projected ServiceAccount token as `Authorization: Bearer`. The operator:
//   1. TokenReview with our audience → authenticated, audience matches;
//   2. the user is the installer ServiceAccount (system:serviceaccount:<ns>:<name>);
//   3. the token is bound to a pod (status.user.extra authentication.kubernetes.io/pod-name and
//      pod-uid), that pod exists with that uid, runs as that ServiceAccount, is not terminating,
//      and is scheduled: N = spec.nodeName; when the token also carries
//      authentication.kubernetes.io/node-name (kube-apiserver ≥ 1.30, ServiceAccountTokenPodNodeInfo)
//      it must name N too;
//   4. the CSR is self-signed by a P-256 key and its subject is exactly CN=N;
// then signs CN=N, O=spiderpool-ts:nodes, clientAuth and answers 200 {certificate, ca, notAfter}.
// Every refusal is JSON {reason, message}: 401 no/invalid token, 403 not allowed (wrong account,
// pod, node), 400 bad CSR, 503 the API could not be asked (retry).
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthenticationV1Api, CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { Result } from '../core/annotations/result.js';
import { createLogger, type Logger } from '../framework/logger.js';
import type { CertificateAuthority } from './ca.js';
import { MAX_CSR_BYTES, signNodeCsr, type IssuedKeyPair } from './issue.js';

export const ENROLL_PATH = '/enroll';
export const DEFAULT_AUDIENCE = 'spiderpool-ts';
export const EXTRA_POD_NAME = 'authentication.kubernetes.io/pod-name';
export const EXTRA_POD_UID = 'authentication.kubernetes.io/pod-uid';
export const EXTRA_NODE_NAME = 'authentication.kubernetes.io/node-name';

/** What the handler reads of a TokenReview status (V1TokenReviewStatus fits). */
export interface TokenReviewStatus {
  authenticated?: boolean;
  error?: string;
  audiences?: string[];
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
}
/** Reviews a bearer token for the given audiences (the real one: kubeTokenReviewer). */
export type TokenReviewer = (token: string, audiences: string[]) => Promise<TokenReviewStatus>;
/** Reads a pod; undefined when it does not exist (the real one: kubePodGetter). */
export type PodGetter = (namespace: string, name: string) => Promise<V1Pod | undefined>;

export function kubeTokenReviewer(api: AuthenticationV1Api): TokenReviewer {
  return async (token, audiences) => {
    const review = await api.createTokenReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } },
    });
    return review.status ?? {};
  };
}

export function kubePodGetter(api: CoreV1Api): PodGetter {
  return async (namespace, name) => {
    try {
      return await api.readNamespacedPod({ namespace, name });
    } catch (e) {
      if ((e as { code?: number }).code === 404) return undefined;
      throw e;
    }
  };
}

export interface EnrollConfig {
  ca: CertificateAuthority;
  /** the plugin installer's ServiceAccount: only its pod-bound tokens may enroll */
  installer: { namespace: string; serviceAccount: string };
  /** the token audience we require (the installer's projected token volume asks for it) */
  audience?: string;
  /** node certificate validity, default 365 days */
  validityDays?: number;
  reviewToken: TokenReviewer;
  getPod: PodGetter;
  log?: Logger;
  now?: () => Date;
}

export interface EnrollDenial {
  status: 400 | 401 | 403 | 503;
  reason: string;
  message: string;
}

export interface EnrollGrant {
  node: string;
  /** namespace/name of the installer pod the token is bound to */
  pod: string;
}

const deny = (status: EnrollDenial['status'], reason: string, message: string): { ok: false; error: EnrollDenial } => ({
  ok: false,
  error: { status, reason, message },
});

/** Steps 1–3: which node, if any, this bearer token may enroll. */
export async function authorizeEnrollment(cfg: EnrollConfig, token: string): Promise<Result<EnrollGrant, EnrollDenial>> {
  const audience = cfg.audience ?? DEFAULT_AUDIENCE;
  let status: TokenReviewStatus;
  try {
    status = await cfg.reviewToken(token, [audience]);
  } catch (e) {
    return deny(503, 'review-unavailable', `TokenReview failed: ${(e as Error).message}`);
  }
  if (!status.authenticated) return deny(401, 'token-invalid', `token not authenticated: ${status.error || 'no reason given'}`);
  // With spec.audiences set the apiserver only authenticates a token for one of them and echoes
  // the match; an authenticator that ignores audiences echoes none, which we do not accept.
  if (!status.audiences?.includes(audience)) {
    return deny(403, 'audience-mismatch', `token audiences ${JSON.stringify(status.audiences ?? [])} do not include ${audience}`);
  }
  const { namespace, serviceAccount } = cfg.installer;
  const expectedUser = `system:serviceaccount:${namespace}:${serviceAccount}`;
  const username = status.user?.username ?? '';
  if (username !== expectedUser) return deny(403, 'wrong-service-account', `token user ${username} is not ${expectedUser}`);
  const extra = status.user?.extra ?? {};
  const podName = single(extra[EXTRA_POD_NAME]);
  const podUid = single(extra[EXTRA_POD_UID]);
  if (!podName || !podUid) return deny(403, 'not-pod-bound', `token is not bound to a pod (no ${EXTRA_POD_NAME}/${EXTRA_POD_UID})`);
  const podId = `${namespace}/${podName}`;
  let pod: V1Pod | undefined;
  try {
    pod = await cfg.getPod(namespace, podName);
  } catch (e) {
    return deny(503, 'review-unavailable', `reading pod ${podId} failed: ${(e as Error).message}`);
  }
  if (!pod) return deny(403, 'pod-not-found', `pod ${podId} the token is bound to does not exist`);
  if (pod.metadata?.uid !== podUid) return deny(403, 'pod-uid-mismatch', `pod ${podId} has uid ${pod.metadata?.uid}, the token names ${podUid}`);
  if ((pod.spec?.serviceAccountName ?? 'default') !== serviceAccount) {
    return deny(403, 'wrong-service-account', `pod ${podId} runs as ${pod.spec?.serviceAccountName}, not ${serviceAccount}`);
  }
  if (pod.metadata?.deletionTimestamp) return deny(403, 'pod-terminating', `pod ${podId} is being deleted`);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return deny(403, 'pod-terminated', `pod ${podId} has ended (${phase})`);
  const node = pod.spec?.nodeName ?? '';
  if (!node) return deny(403, 'pod-not-scheduled', `pod ${podId} is not scheduled to a node`);
  const claimedNode = single(extra[EXTRA_NODE_NAME]);
  if (claimedNode !== undefined && claimedNode !== node) {
    return deny(403, 'node-claim-mismatch', `token was issued for node ${claimedNode}, pod ${podId} is on ${node}`);
  }
  return { ok: true, value: { node, pod: podId } };
}

export interface EnrollResponse {
  /** the node's certificate, PEM */
  certificate: string;
  /** the CA certificate, PEM: trust anchor for the operator's server certificate */
  ca: string;
  notAfter: string;
}

/** Steps 1–4 and signing: the whole decision for one request, without HTTP. */
export async function enroll(cfg: EnrollConfig, token: string, csrPem: string): Promise<Result<EnrollResponse & EnrollGrant, EnrollDenial>> {
  const grant = await authorizeEnrollment(cfg, token);
  if (!grant.ok) return grant;
  const signed = await signNodeCsr(cfg.ca, csrPem, {
    nodeName: grant.value.node,
    ...(cfg.validityDays === undefined ? {} : { validityDays: cfg.validityDays }),
    ...(cfg.now ? { now: cfg.now() } : {}),
  });
  if (!signed.ok) {
    const status = signed.error.reason === 'node-mismatch' ? 403 : 400;
    return deny(status, signed.error.reason, signed.error.message);
  }
  return {
    ok: true,
    value: { ...grant.value, certificate: signed.value.certPem, ca: cfg.ca.certPem, notAfter: signed.value.notAfter.toISOString() },
  };
}

/** The node:https request handler for POST /enroll. */
export function createEnrollHandler(cfg: EnrollConfig): (req: IncomingMessage, res: ServerResponse) => void {
  const log = (cfg.log ?? createLogger()).child({ component: 'enroll' });
  return (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'https://enroll.invalid');
      if (url.pathname !== ENROLL_PATH) return send(res, 404, { reason: 'not-found', message: `only ${ENROLL_PATH}` });
      if (req.method !== 'POST') return send(res, 405, { reason: 'method-not-allowed', message: 'POST a PEM CSR' }, { allow: 'POST' });
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (!m?.[1]) return send(res, 401, { reason: 'missing-token', message: 'Authorization: Bearer <service account token> is required' });
      const body = await readBody(req, MAX_CSR_BYTES);
      if (body === undefined) return send(res, 413, { reason: 'too-large', message: `CSR larger than ${MAX_CSR_BYTES} bytes` });
      const result = await enroll(cfg, m[1], body);
      const peer = req.socket.remoteAddress;
      if (!result.ok) {
        log.warn('enrollment refused', { peer, status: result.error.status, reason: result.error.reason, detail: result.error.message });
        return send(res, result.error.status, { reason: result.error.reason, message: result.error.message });
      }
      const { node, pod, ...answer } = result.value;
      log.info('node enrolled', { node, pod, peer, notAfter: answer.notAfter });
      return send(res, 200, answer);
    })().catch((e: unknown) => {
      log.error('enrollment failed', { error: e });
      if (!res.headersSent) send(res, 500, { reason: 'internal', message: 'internal error' });
      else res.destroy();
    });
  };
}

export interface EnrollServerOptions {
  /** the operator's server certificate (issueServerCertificate) */
  serverCert: IssuedKeyPair;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}

/** An HTTPS server (TLS 1.2+, no client certificate: an enrolling node has none yet) for the handler. Call listen() yourself. */
export function createEnrollServer(opts: EnrollServerOptions): Server {
  const server = createServer(
    { cert: opts.serverCert.chainPem, key: opts.serverCert.keyPem, minVersion: 'TLSv1.2', requestTimeout: 30_000, headersTimeout: 10_000 },
    opts.handler,
  );
  server.maxHeadersCount = 50;
  return server;
}

function single(v: string[] | undefined): string | undefined {
  return v?.length === 1 && v[0] ? v[0] : undefined;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** The body as UTF-8, or undefined when it exceeds `limit` bytes (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        done = true;
        resolve(undefined);
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}
