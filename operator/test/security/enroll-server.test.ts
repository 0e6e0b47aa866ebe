// The /enroll decision with injected TokenReview and pod lookups, for the branches the real
// apiserver cannot produce on demand (tests/integration/security covers the real ones), and the
// HTTP surface on a loopback HTTPS server.
import type { AddressInfo } from 'node:net';
import { request } from 'node:https';
import type { V1Pod } from '@kubernetes/client-node';
import winston from 'winston';
import { createCA, type CertificateAuthority } from '../../src/security/ca.js';
import {
  authorizeEnrollment,
  createEnrollHandler,
  createEnrollServer,
  enroll,
  type EnrollConfig,
  type TokenReviewStatus,
} from '../../src/security/enroll-server.js';
import { issueServerCertificate } from '../../src/security/issue.js';
import { nodeCsr } from './helpers.js';

const NS = 'spiderpool-ts-system';
const SA = 'spiderpool-ts-plugin';
let ca: CertificateAuthority;
beforeAll(async () => {
  ca = await createCA();
});

const review = (over: Partial<TokenReviewStatus> = {}, extra: Record<string, string[]> = {}): TokenReviewStatus => ({
  authenticated: true,
  audiences: ['spiderpool-ts'],
  user: {
    username: `system:serviceaccount:${NS}:${SA}`,
    extra: {
      'authentication.kubernetes.io/pod-name': ['plugin-abc'],
      'authentication.kubernetes.io/pod-uid': ['uid-1'],
      'authentication.kubernetes.io/node-name': ['worker-1'],
      ...extra,
    },
  },
  ...over,
});
const livePod = (over: Partial<V1Pod['spec']> = {}, meta: Partial<V1Pod['metadata']> = {}): V1Pod => ({
  metadata: { namespace: NS, name: 'plugin-abc', uid: 'uid-1', ...meta },
  spec: { containers: [], serviceAccountName: SA, nodeName: 'worker-1', ...over },
  status: { phase: 'Running' },
});
/** pod null: the pod does not exist */
function cfg(status: TokenReviewStatus | Error, pod: V1Pod | null | Error = livePod()): EnrollConfig {
  return {
    ca,
    installer: { namespace: NS, serviceAccount: SA },
    reviewToken: async () => {
      if (status instanceof Error) throw status;
      return status;
    },
    getPod: async () => {
      if (pod instanceof Error) throw pod;
      return pod ?? undefined;
    },
    log: winston.createLogger({ silent: true }),
  };
}

describe('authorizeEnrollment', () => {
  test('a pod-bound installer token names the pod node', async () => {
    expect(await authorizeEnrollment(cfg(review()), 't')).toEqual({ ok: true, value: { node: 'worker-1', pod: `${NS}/plugin-abc` } });
    // apiservers without the node claim (< 1.30): the pod's spec.nodeName alone decides
    const noNodeClaim = review();
    delete noNodeClaim.user!.extra!['authentication.kubernetes.io/node-name'];
    expect(await authorizeEnrollment(cfg(noNodeClaim), 't')).toMatchObject({ ok: true, value: { node: 'worker-1' } });
  });

  test.each([
    ['unauthenticated', review({ authenticated: false, error: 'invalid bearer token' }), livePod(), 401, 'token-invalid'],
    ['no audience echoed', review({ audiences: [] }), livePod(), 403, 'audience-mismatch'],
    ['another account', review({ user: { username: `system:serviceaccount:${NS}:default`, extra: {} } }), livePod(), 403, 'wrong-service-account'],
    ['a user, not an SA', review({ user: { username: 'kubernetes-admin' } }), livePod(), 403, 'wrong-service-account'],
    ['not pod-bound', review({ user: { username: `system:serviceaccount:${NS}:${SA}`, extra: {} } }), livePod(), 403, 'not-pod-bound'],
    ['pod gone', review(), null, 403, 'pod-not-found'],
    ['pod recreated (uid)', review(), livePod({}, { uid: 'uid-2' }), 403, 'pod-uid-mismatch'],
    ['pod of another SA', review(), livePod({ serviceAccountName: 'other' }), 403, 'wrong-service-account'],
    ['pod terminating', review(), livePod({}, { deletionTimestamp: new Date() }), 403, 'pod-terminating'],
    ['pod unscheduled', review({}, { 'authentication.kubernetes.io/node-name': [] }), livePod({ nodeName: undefined }), 403, 'pod-not-scheduled'],
    ['node claim disagrees', review({}, { 'authentication.kubernetes.io/node-name': ['worker-9'] }), livePod(), 403, 'node-claim-mismatch'],
    ['TokenReview down', new Error('ECONNREFUSED'), livePod(), 503, 'review-unavailable'],
    ['pod read fails', review(), new Error('timeout'), 503, 'review-unavailable'],
  ] as const)('%s', async (_name, status, pod, code, reason) => {
    expect(await authorizeEnrollment(cfg(status as TokenReviewStatus | Error, pod as V1Pod | null | Error), 't')).toMatchObject({
      ok: false,
      error: { status: code, reason },
    });
  });

  test('a terminated pod (phase Failed) is refused', async () => {
    const p = livePod();
    p.status = { phase: 'Failed' };
    expect(await authorizeEnrollment(cfg(review(), p), 't')).toMatchObject({ ok: false, error: { status: 403, reason: 'pod-terminated' } });
  });

  test('enroll(): CSR CN must be the authorised node (403 node-mismatch), bad CSR 400', async () => {
    const other = await nodeCsr([{ CN: ['worker-2'] }]);
    expect(await enroll(cfg(review()), 't', other.csrPem)).toMatchObject({ ok: false, error: { status: 403, reason: 'node-mismatch' } });
    expect(await enroll(cfg(review()), 't', 'junk')).toMatchObject({ ok: false, error: { status: 400, reason: 'invalid-csr' } });
    const mine = await nodeCsr([{ CN: ['worker-1'] }]);
    expect(await enroll(cfg(review()), 't', mine.csrPem)).toMatchObject({ ok: true, value: { node: 'worker-1', ca: ca.certPem } });
  });
});

describe('HTTP surface', () => {
  test('404 other paths, 405 other methods, 401 without Bearer, 413 oversized, 200 JSON', async () => {
    const cert = await issueServerCertificate(ca, { dnsNames: ['x'], ipAddresses: ['127.0.0.1'] });
    const server = createEnrollServer({ serverCert: cert, handler: createEnrollHandler(cfg(review())) });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const call = (method: string, path: string, body: string, auth?: string) =>
      new Promise<{ status: number; json: Record<string, string>; headers: Record<string, unknown> }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method, path, ca: ca.certPem, headers: auth ? { authorization: auth } : {} }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()), headers: res.headers }));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      expect((await call('POST', '/other', '')).status).toBe(404);
      expect(await call('GET', '/enroll', '')).toMatchObject({ status: 405, headers: { allow: 'POST' } });
      expect(await call('POST', '/enroll', 'x')).toMatchObject({ status: 401, json: { reason: 'missing-token' } });
      expect(await call('POST', '/enroll', 'x'.repeat(20_000), 'Bearer t')).toMatchObject({ status: 413, json: { reason: 'too-large' } });
      const { csrPem } = await nodeCsr([{ CN: ['worker-1'] }]);
      const ok = await call('POST', '/enroll', csrPem, 'Bearer t');
      expect(ok.status).toBe(200);
      expect(Object.keys(ok.json).sort()).toEqual(['ca', 'certificate', 'notAfter']);
      expect(ok.headers['content-type']).toBe('application/json');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
