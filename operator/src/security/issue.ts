// Certificates the CA issues (ADR 0006):
// - the operator's gRPC/enroll server certificate, issued in memory at start (SANs from config);
// - node client certificates: CN = node name, O = spiderpool-ts:nodes, EKU clientAuth, signed from a
//   PKCS#10 CSR whose key was generated on the node. The certificate's content is decided here, not
//   by the CSR: only the CSR's public key (and a CN that must equal the authorised node) is used.
import { isIP } from 'node:net';
import type { Result } from '../core/annotations/result.js';
import type { CertificateAuthority } from './ca.js';
import { type EcKeyAlgorithm, CLOCK_SKEW_MS, DAY_MS, EC_P256, generateP256, NODE_ORGANIZATION, privateKeyPem, randomSerial, x509 } from './x509.js';

export const NODE_CERT_VALIDITY_DAYS = 365;
export const SERVER_CERT_VALIDITY_DAYS = 365;
/** The largest CSR (PEM) we parse; a P-256 CSR is ~450 bytes. */
export const MAX_CSR_BYTES = 16 * 1024;

export interface IssuedKeyPair {
  /** leaf certificate, PEM */
  certPem: string;
  /** leaf + CA, PEM: what a TLS server presents */
  chainPem: string;
  /** PKCS#8 PEM */
  keyPem: string;
  notAfter: Date;
}

export interface ServerCertOptions {
  /** DNS SANs, e.g. spiderpool-ts-operator.kube-system.svc; the first is also the CN */
  dnsNames: readonly string[];
  /** IP SANs, e.g. 127.0.0.1 for tests, the Service's ClusterIP */
  ipAddresses?: readonly string[];
  validityDays?: number;
  now?: Date;
}

/** A server certificate and key for the operator's TLS endpoints (gRPC and /enroll), kept in memory. */
export async function issueServerCertificate(ca: CertificateAuthority, opts: ServerCertOptions): Promise<IssuedKeyPair> {
  const ips = opts.ipAddresses ?? [];
  for (const ip of ips) if (!isIP(ip)) throw new Error(`server certificate: ${ip} is not an IP address`);
  if (opts.dnsNames.length + ips.length === 0) throw new Error('server certificate: no DNS name and no IP address');
  const now = opts.now ?? new Date();
  const keys = await generateP256();
  const notAfter = clampToCA(ca, new Date(now.getTime() + (opts.validityDays ?? SERVER_CERT_VALIDITY_DAYS) * DAY_MS));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: new x509.Name([{ CN: [opts.dnsNames[0] ?? ips[0]!] }, { O: ['spiderpool-ts'] }]),
    issuer: ca.cert.subjectName,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter,
    signingAlgorithm: EC_P256,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...opts.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  const certPem = cert.toString('pem');
  return { certPem, chainPem: `${certPem}\n${ca.certPem}\n`, keyPem: await privateKeyPem(keys.privateKey), notAfter };
}

export interface CsrError {
  reason: 'invalid-csr' | 'unsupported-key' | 'csr-signature' | 'csr-subject' | 'node-mismatch' | 'invalid-node-name';
  message: string;
}

export interface NodeCertificate {
  /** leaf, PEM */
  certPem: string;
  /** leaf + CA, PEM */
  chainPem: string;
  notAfter: Date;
  serialNumber: string;
}

export interface SignNodeOptions {
  /** the node the caller was authorised for: the CSR's CN must be exactly this */
  nodeName: string;
  validityDays?: number;
  now?: Date;
}

/** RFC 1123 DNS subdomain: what Kubernetes accepts as a Node name. */
export function isNodeName(s: string): boolean {
  return s.length > 0 && s.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(s);
}

/** The node's client certificate from its CSR, or why not. The CSR must be self-signed by a P-256 key and name CN=<nodeName> only. */
export async function signNodeCsr(ca: CertificateAuthority, csrPem: string, opts: SignNodeOptions): Promise<Result<NodeCertificate, CsrError>> {
  const fail = (reason: CsrError['reason'], message: string): { ok: false; error: CsrError } => ({ ok: false, error: { reason, message } });
  if (!isNodeName(opts.nodeName)) return fail('invalid-node-name', `node name ${JSON.stringify(opts.nodeName)} is not a DNS subdomain`);
  if (csrPem.length > MAX_CSR_BYTES) return fail('invalid-csr', `CSR is larger than ${MAX_CSR_BYTES} bytes`);
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem.trim());
  } catch (e) {
    return fail('invalid-csr', `not a PEM PKCS#10 certificate request: ${(e as Error).message}`);
  }
  const alg = csr.publicKey.algorithm as EcKeyAlgorithm;
  if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') {
    return fail('unsupported-key', `CSR key is ${alg.name}${alg.namedCurve ? ` ${alg.namedCurve}` : ''}; only ECDSA P-256 is accepted`);
  }
  let signed: boolean;
  try {
    signed = await csr.verify();
  } catch (e) {
    return fail('csr-signature', `CSR signature cannot be checked: ${(e as Error).message}`);
  }
  if (!signed) return fail('csr-signature', 'CSR signature does not verify with its own public key');
  const subject = csr.subjectName.toJSON();
  const cns = subject.flatMap((rdn) => rdn.CN ?? []);
  const others = subject.flatMap((rdn) => Object.keys(rdn)).filter((k) => k !== 'CN');
  if (cns.length !== 1 || others.length > 0) {
    return fail('csr-subject', `CSR subject must be exactly CN=<node name>, got ${JSON.stringify(csr.subject)}`);
  }
  if (cns[0] !== opts.nodeName) {
    return fail('node-mismatch', `CSR asks for node ${JSON.stringify(cns[0])}, but the caller is authorised for node ${opts.nodeName}`);
  }
  const now = opts.now ?? new Date();
  const notAfter = clampToCA(ca, new Date(now.getTime() + (opts.validityDays ?? NODE_CERT_VALIDITY_DAYS) * DAY_MS));
  const serialNumber = randomSerial();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject: new x509.Name([{ CN: [opts.nodeName] }, { O: [NODE_ORGANIZATION] }]),
    issuer: ca.cert.subjectName,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter,
    signingAlgorithm: EC_P256,
    publicKey: csr.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  const certPem = cert.toString('pem');
  return { ok: true, value: { certPem, chainPem: `${certPem}\n${ca.certPem}\n`, notAfter, serialNumber } };
}

/** No certificate outlives its CA (a verifier would reject the tail anyway). */
function clampToCA(ca: CertificateAuthority, notAfter: Date): Date {
  return notAfter.getTime() > ca.cert.notAfter.getTime() ? ca.cert.notAfter : notAfter;
}
