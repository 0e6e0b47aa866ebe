import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ipamServiceDefinition } from '../../src/rpc/grpc-service.js';
import { GrpcCode } from '../../src/rpc/errors.js';
import { createCA, type CertificateAuthority } from '../../src/security/ca.js';
import { issueServerCertificate, signNodeCsr } from '../../src/security/issue.js';
import { authorizeNodeForPod, authorizeRequestNode, nodeAuthenticator, nodeIdentityFromCall, nodeIdentityFromPeer } from '../../src/security/peer-identity.js';
import { EC_P256, generateP256, privateKeyPem, randomSerial, x509 } from '../../src/security/x509.js';
import { nodeCsr } from './helpers.js';

let ca: CertificateAuthority;
let other: CertificateAuthority;
async function nodeCert(issuer: CertificateAuthority, node: string) {
  const { csrPem, keyPem } = await nodeCsr([{ CN: [node] }]);
  const r = await signNodeCsr(issuer, csrPem, { nodeName: node });
  if (!r.ok) throw new Error(r.error.message);
  return { certPem: r.value.certPem, keyPem };
}
/** A client certificate from our CA that is not a node certificate (wrong O). */
async function foreignClientCert(issuer: CertificateAuthority, subject: x509.JsonName) {
  const keys = await generateP256();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: new x509.Name(subject),
    issuer: issuer.cert.subjectName,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: EC_P256,
    publicKey: keys.publicKey,
    signingKey: issuer.privateKey,
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

beforeAll(async () => {
  ca = await createCA();
  other = await createCA({ commonName: 'evil CA' });
});

describe('nodeIdentityFromPeer', () => {
  test('a node certificate of our CA names its node (PEM, DER, X509Certificate, tls.PeerCertificate.raw)', async () => {
    const { certPem } = await nodeCert(ca, 'worker-1');
    const x = new X509Certificate(certPem);
    const opts = { ca: ca.nodeCert };
    expect(nodeIdentityFromPeer(certPem, opts)).toEqual({ ok: true, value: 'worker-1' });
    expect(nodeIdentityFromPeer(x.raw, opts)).toEqual({ ok: true, value: 'worker-1' });
    expect(nodeIdentityFromPeer(x, opts)).toEqual({ ok: true, value: 'worker-1' });
    expect(nodeIdentityFromPeer({ raw: x.raw } as never, opts)).toEqual({ ok: true, value: 'worker-1' });
  });

  test('a node certificate from another CA is refused when the CA is given', async () => {
    const { certPem } = await nodeCert(other, 'worker-1');
    const r = nodeIdentityFromPeer(certPem, { ca: ca.nodeCert });
    expect(r).toMatchObject({ ok: false, error: { code: GrpcCode.UNAUTHENTICATED, reason: 'unauthenticated' } });
    if (!r.ok) expect(r.error.message).toBe('client certificate: was not issued by the spiderpool-ts CA');
  });

  test('wrong organisation, no clientAuth, CA certificates, nothing at all: UNAUTHENTICATED', async () => {
    const wrongO = await foreignClientCert(ca, [{ CN: ['worker-1'] }, { O: ['system:nodes'] }]);
    expect(nodeIdentityFromPeer(wrongO.certPem, { ca: ca.nodeCert })).toMatchObject({
      ok: false,
      error: { code: 16, message: expect.stringContaining('is not in organisation spiderpool-ts:nodes') },
    });
    const server = await issueServerCertificate(ca, { dnsNames: ['x'] });
    expect(nodeIdentityFromPeer(server.certPem, { ca: ca.nodeCert })).toMatchObject({ ok: false, error: { code: 16 } });
    expect(nodeIdentityFromPeer(ca.certPem)).toMatchObject({ ok: false, error: { code: 16 } });
    expect(nodeIdentityFromPeer(undefined)).toMatchObject({ ok: false, error: { code: 16, message: expect.stringContaining('mTLS is required') } });
    expect(nodeIdentityFromPeer({} as never)).toMatchObject({ ok: false, error: { code: 16 } });
    expect(nodeIdentityFromPeer('garbage')).toMatchObject({ ok: false, error: { code: 16 } });
  });

  test('nodeAuthenticator: the grpc-server.ts hook shape (node name or IpamError)', async () => {
    const { certPem } = await nodeCert(ca, 'worker-3');
    const auth = nodeAuthenticator({ ca: ca.nodeCert });
    const peer = { raw: new X509Certificate(certPem).raw } as never;
    expect(auth({ transportSecurityType: 'ssl', sslPeerCertificate: peer })).toBe('worker-3');
    expect(auth({})).toMatchObject({ code: 16, reason: 'unauthenticated' });
    expect(auth(null)).toMatchObject({ code: 16 });
  });

  test('nodeAuthenticator remembers accepted certificates, not refused ones, and still checks validity on every call', async () => {
    const { certPem } = await nodeCert(ca, 'worker-4');
    const foreign = await nodeCert(other, 'worker-4');
    const peerOf = (pem: string) => ({ transportSecurityType: 'ssl', sslPeerCertificate: { raw: new X509Certificate(pem).raw } as never });
    const clock = { now: new Date() };
    const opts = { ca: ca.nodeCert, get now() { return clock.now; } };
    const auth = nodeAuthenticator(opts);
    expect(auth(peerOf(certPem))).toBe('worker-4');
    expect(auth(peerOf(certPem))).toBe('worker-4'); // from the cache
    // same node name, another CA: not confused with the accepted certificate
    expect(auth(peerOf(foreign.certPem))).toMatchObject({ code: 16, reason: 'unauthenticated' });
    expect(auth(peerOf(foreign.certPem))).toMatchObject({ code: 16 });
    // a remembered certificate past its validity is refused
    clock.now = new Date(Date.now() + 400 * 86_400_000);
    expect(auth(peerOf(certPem))).toMatchObject({ code: 16, reason: 'unauthenticated' });
  });

  test('an expired certificate is refused when the CA is given', async () => {
    const { certPem } = await nodeCert(ca, 'worker-1');
    const later = new Date(Date.now() + 400 * 86_400_000);
    expect(nodeIdentityFromPeer(certPem, { ca: ca.nodeCert, now: later })).toMatchObject({ ok: false, error: { code: 16 } });
  });
});

describe('authorizeNodeForPod / authorizeRequestNode', () => {
  const pod = (nodeName?: string) => ({ metadata: { namespace: 'ns', name: 'p' }, spec: { containers: [], ...(nodeName ? { nodeName } : {}) } });
  test('the pod on the caller node is ok; elsewhere FAILED_PRECONDITION pod-not-on-node with node=<pod node>', () => {
    expect(authorizeNodeForPod('worker-1', pod('worker-1'))).toEqual({ ok: true, value: undefined });
    const r = authorizeNodeForPod('worker-2', pod('worker-1'));
    expect(r).toMatchObject({ ok: false, error: { code: 9, reason: 'pod-not-on-node', metadata: { node: 'worker-1' } } });
    if (!r.ok) expect(r.error.message).toBe("pod ns/p is on node worker-1, not on worker-2 (the caller's certificate)");
    expect(authorizeNodeForPod('worker-1', pod())).toMatchObject({ ok: false, error: { code: 9, metadata: { node: '' } } });
    expect(authorizeNodeForPod('', pod())).toMatchObject({ ok: false }); // unscheduled never matches
  });
  test('request node_name must be the certificate node (empty = the certificate node)', () => {
    expect(authorizeRequestNode('a', 'a').ok).toBe(true);
    expect(authorizeRequestNode('a', '').ok).toBe(true);
    expect(authorizeRequestNode('a', 'b')).toMatchObject({
      ok: false,
      error: { code: 16, reason: 'unauthenticated', message: 'client certificate is for node a, the request names node b' },
    });
  });
});

describe('with a real @grpc/grpc-js mTLS server', () => {
  let server: grpc.Server;
  let port: number;
  const Client = grpc.makeGenericClientConstructor(ipamServiceDefinition, 'IPAM');

  beforeAll(async () => {
    const cert = await issueServerCertificate(ca, { dnsNames: ['operator.test'], ipAddresses: ['127.0.0.1'] });
    server = new grpc.Server();
    const unimplemented: grpc.handleUnaryCall<unknown, unknown> = (_c, cb) => cb({ code: grpc.status.UNIMPLEMENTED });
    server.addService(ipamServiceDefinition, {
      allocate: unimplemented,
      release: unimplemented,
      check: unimplemented,
      gC: unimplemented,
      // status answers with the caller's node: the exact calls the service author makes.
      status: ((call, cb) => {
        const who = nodeIdentityFromCall(call, { ca: ca.nodeCert });
        if (!who.ok) return cb({ code: who.error.code, details: who.error.message });
        cb(null, { ready: true, message: who.value });
      }) as grpc.handleUnaryCall<unknown, { ready: boolean; message: string }>,
    });
    const creds = grpc.ServerCredentials.createSsl(Buffer.from(ca.certPem), [{ cert_chain: Buffer.from(cert.chainPem), private_key: Buffer.from(cert.keyPem) }], true);
    port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? rej(e) : res(p))));
  });
  afterAll(() => server.forceShutdown());

  function status(client: { certPem: string; keyPem: string }): Promise<{ code: number; details?: string; message?: string }> {
    const creds = grpc.credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(client.keyPem), Buffer.from(client.certPem));
    const c = new Client(`127.0.0.1:${port}`, creds, { 'grpc.ssl_target_name_override': 'operator.test' });
    return new Promise((res) => {
      c.makeUnaryRequest(
        `/spiderpool_ts.ipam.v1.IPAM/Status`,
        (m: unknown) => Buffer.from(ipamServiceDefinition.status!.requestSerialize(m)),
        (b: Buffer) => ipamServiceDefinition.status!.responseDeserialize(b) as { message: string },
        { nodeName: 'x' },
        { deadline: Date.now() + 5000 },
        (err, value) => {
          c.close();
          res(err ? { code: err.code, details: err.details } : { code: 0, message: (value as { message: string }).message });
        },
      );
    });
  }

  test('call.getAuthContext().sslPeerCertificate yields the node of the client certificate', async () => {
    expect(await status(await nodeCert(ca, 'worker-7'))).toEqual({ code: 0, message: 'worker-7' });
  });

  test('a certificate of our CA that is not a node certificate: UNAUTHENTICATED from the handler', async () => {
    const r = await status(await foreignClientCert(ca, [{ CN: ['worker-1'] }, { O: ['system:nodes'] }]));
    expect(r.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(r.details).toContain('spiderpool-ts:nodes');
  });

  test('a node certificate of another CA never reaches the handler (TLS handshake refused)', async () => {
    const r = await status(await nodeCert(other, 'worker-1'));
    expect(r.code).toBe(grpc.status.UNAVAILABLE);
  });
});
