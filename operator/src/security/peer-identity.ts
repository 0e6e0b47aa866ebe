// Who is calling the allocator service, from the TLS client certificate (ADR 0006).
//
// The gRPC server is created with
//   ServerCredentials.createSsl(Buffer.from(ca.certPem), [{ cert_chain, private_key }], true)
// so node:tls rejects in the handshake any client without a certificate that chains to our CA
// (grpc-js sets requestCert; node's rejectUnauthorized defaults to true). In a handler,
// `call.getAuthContext()` (@grpc/grpc-js ≥ 1.13; 1.14.7 here) returns
// { transportSecurityType: 'ssl', sslPeerCertificate } for an authorised TLS peer, and {} otherwise.
// These functions turn that certificate into a node name, and the node name plus the pod into a
// yes or a FAILED_PRECONDITION / pod-not-on-node; both return IpamError values, never throw.
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import type { V1Pod } from '@kubernetes/client-node';
import type { Result } from '../core/annotations/result.js';
import { ErrorReason, GrpcCode } from '../rpc/errors.js';
import { IpamError } from '../service/errors.js';
import { isNodeName } from './issue.js';
import { NODE_ORGANIZATION } from './x509.js';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

export interface PeerCheckOptions {
  /**
   * Our CA. When given, the certificate must also be issued and signed by it and be within its
   * validity at `now` — a second check behind the TLS handshake, for a server whose rootCerts is
   * wider than our CA. grpc-js with checkClientCertificate=true already guarantees the chain.
   */
  ca?: X509Certificate;
  now?: Date;
}

const unauthenticated = (why: string): { ok: false; error: IpamError } => ({
  ok: false,
  error: new IpamError(GrpcCode.UNAUTHENTICATED, ErrorReason.Unauthenticated, `client certificate: ${why}`),
});

/**
 * The node name a client certificate authenticates: CN = node, O = spiderpool-ts:nodes, EKU
 * clientAuth. `certificate` is grpc-js's `call.getAuthContext().sslPeerCertificate` (a
 * tls.PeerCertificate; only its DER `raw` is read, re-parsed with node:crypto), or a DER/PEM
 * certificate. Anything else is UNAUTHENTICATED / "unauthenticated".
 */
export function nodeIdentityFromPeer(
  certificate: PeerCertificate | X509Certificate | Buffer | string | undefined,
  opts: PeerCheckOptions = {},
): Result<string, IpamError> {
  if (certificate === undefined) return unauthenticated('none presented (mTLS is required)');
  let cert: X509Certificate;
  try {
    if (certificate instanceof X509Certificate) cert = certificate;
    else if (typeof certificate === 'string' || Buffer.isBuffer(certificate)) cert = new X509Certificate(certificate);
    else if (Buffer.isBuffer(certificate.raw) && certificate.raw.length > 0) cert = new X509Certificate(certificate.raw);
    else return unauthenticated('the peer certificate carries no DER encoding');
  } catch (e) {
    return unauthenticated(`cannot be parsed: ${(e as Error).message}`);
  }
  const subject = parseDn(cert.subject);
  const orgs = subject.get('O') ?? [];
  const cns = subject.get('CN') ?? [];
  if (!orgs.includes(NODE_ORGANIZATION)) return unauthenticated(`subject ${oneLine(cert.subject)} is not in organisation ${NODE_ORGANIZATION}`);
  if (cns.length !== 1 || !isNodeName(cns[0]!)) return unauthenticated(`subject ${oneLine(cert.subject)} has no single node-name CN`);
  if (!(cert.keyUsage ?? []).includes(CLIENT_AUTH_OID)) return unauthenticated('extended key usage clientAuth is missing');
  if (cert.ca) return unauthenticated('is a CA certificate');
  if (opts.ca) {
    if (!cert.checkIssued(opts.ca) || !cert.verify(opts.ca.publicKey)) return unauthenticated('was not issued by the spiderpool-ts CA');
    const now = (opts.now ?? new Date()).getTime();
    if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) {
      return unauthenticated(`is not valid now (valid ${cert.validFrom} – ${cert.validTo})`);
    }
  }
  return { ok: true, value: cns[0]! };
}

/** grpc-js's view of a call, as far as authentication goes (ServerUnaryCall has it). */
/** grpc-js's AuthContext (not exported from its index; build/src/auth-context.d.ts). */
export interface AuthContextLike {
  transportSecurityType?: string;
  sslPeerCertificate?: PeerCertificate;
}

export interface CallWithAuthContext {
  getAuthContext(): AuthContextLike | null;
}

/** nodeIdentityFromPeer for a grpc-js server call: `const who = nodeIdentityFromCall(call, {ca})`. */
export function nodeIdentityFromCall(call: CallWithAuthContext, opts: PeerCheckOptions = {}): Result<string, IpamError> {
  const auth = call.getAuthContext();
  if (!auth || auth.transportSecurityType !== 'ssl') return unauthenticated('none presented (the connection is not authorised TLS)');
  return nodeIdentityFromPeer(auth.sslPeerCertificate, opts);
}

/**
 * A node may act only for pods scheduled on it: ok, or FAILED_PRECONDITION / "pod-not-on-node"
 * with metadata node=<the pod's spec.nodeName> ("" when unscheduled).
 */
export function authorizeNodeForPod(nodeName: string, pod: V1Pod): Result<void, IpamError> {
  const podNode = pod.spec?.nodeName ?? '';
  if (podNode !== '' && podNode === nodeName) return { ok: true, value: undefined };
  const podId = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
  return {
    ok: false,
    error: new IpamError(
      GrpcCode.FAILED_PRECONDITION,
      ErrorReason.PodNotOnNode,
      `pod ${podId} is ${podNode ? `on node ${podNode}` : 'not scheduled'}, not on ${nodeName} (the caller's certificate)`,
      { node: podNode },
    ),
  };
}

/**
 * The request's node_name must be the certificate's node (ipam.proto: "Must equal the name in the
 * client certificate"): ok, or UNAUTHENTICATED / "unauthenticated" — a caller naming another node
 * is trying to act as it (operator/src/service/grpc-server.ts answers the same). An empty
 * node_name means "the certificate's node".
 */
export function authorizeRequestNode(certNode: string, requestNode: string): Result<void, IpamError> {
  if (requestNode === '' || requestNode === certNode) return { ok: true, value: undefined };
  return {
    ok: false,
    error: new IpamError(
      GrpcCode.UNAUTHENTICATED,
      ErrorReason.Unauthenticated,
      `client certificate is for node ${certNode}, the request names node ${requestNode}`,
    ),
  };
}

/**
 * The `authenticate` hook of operator/src/service/grpc-server.ts (GrpcServerOptions.authenticate):
 *   new IpamGrpcServer({ ..., authenticate: nodeAuthenticator({ ca: ca.nodeCert }) })
 * Stricter than a bare CN: organisation spiderpool-ts:nodes, clientAuth, issued by our CA, in validity.
 */
export function nodeAuthenticator(opts: PeerCheckOptions & { cacheSize?: number } = {}): (auth: AuthContextLike | null) => string | IpamError {
  // A node presents the same certificate on every shim exec: parse and check each certificate once,
  // not per call (X509 parsing + the ECDSA signature check were ~3 ms of operator CPU per RPC in the
  // seed benchmark's profile, docs/benchmark.md). Keyed by the whole DER; the validity window is
  // still checked on every call; only accepted certificates are remembered.
  const accepted = new Map<string, { node: string; notBefore: number; notAfter: number }>();
  const max = opts.cacheSize ?? 10_000;
  return (auth) => {
    const raw = auth?.transportSecurityType === 'ssl' ? auth.sslPeerCertificate?.raw : undefined;
    const key = Buffer.isBuffer(raw) && raw.length > 0 ? raw.toString('base64') : undefined;
    const now = (opts.now ?? new Date()).getTime();
    const hit = key === undefined ? undefined : accepted.get(key);
    if (hit && now >= hit.notBefore && now <= hit.notAfter) return hit.node;
    const r = nodeIdentityFromCall({ getAuthContext: () => auth }, opts);
    if (!r.ok) return r.error;
    if (key !== undefined) {
      // Without a CA the uncached path checks no validity window either.
      const cert = opts.ca ? new X509Certificate(raw!) : undefined;
      if (accepted.size >= max) accepted.delete(accepted.keys().next().value!);
      accepted.set(key, { node: r.value, notBefore: cert ? Date.parse(cert.validFrom) : -Infinity, notAfter: cert ? Date.parse(cert.validTo) : Infinity });
    }
    return r.value;
  };
}

/** node:crypto's subject string ("CN=a\nO=b", multi-valued RDNs on separate lines) as attribute → values. */
function parseDn(dn: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of dn.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const k = line.slice(0, eq);
    const v = line.slice(eq + 1);
    out.set(k, [...(out.get(k) ?? []), v]);
  }
  return out;
}

const oneLine = (dn: string) => JSON.stringify(dn.replace(/\n/g, ', '));
