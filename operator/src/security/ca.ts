// The operator's certificate authority (ADR 0006): one self-signed ECDSA P-256 CA, kept in the
// Secret `spiderpool-ts-ca` (type kubernetes.io/tls, plus ca.crt) of the operator namespace. Every
// replica loads the same CA; the first to start creates it. Creation is create-or-get: each racer
// generates a candidate and POSTs it, the apiserver accepts exactly one (409 for the others), and a
// loser reads and uses the winner's. A Secret that exists but cannot be used is an error, never
// overwritten: replacing the CA would silently invalidate every node's certificate.
import { X509Certificate as NodeX509 } from 'node:crypto';
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import type { Result } from '../core/annotations/result.js';
import { type CryptoKey, CLOCK_SKEW_MS, DAY_MS, EC_P256, generateP256, importP256PrivateKey, privateKeyPem, randomSerial, x509 } from './x509.js';

export const CA_SECRET_NAME = 'spiderpool-ts-ca';
export const CA_COMMON_NAME = 'spiderpool-ts CA';
export const CA_VALIDITY_DAYS = 3650;

export interface CertificateAuthority {
  /** The CA certificate, PEM: what clients trust (the shim's tls_ca_file, gRPC rootCerts). */
  readonly certPem: string;
  readonly cert: x509.X509Certificate;
  /** The same certificate for node:crypto checks (X509Certificate.verify / checkIssued). */
  readonly nodeCert: NodeX509;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

export interface CAError {
  reason: 'malformed-secret' | 'ca-expired' | 'api-error' | 'race-unresolved';
  /** namespace/name of the Secret */
  secret: string;
  message: string;
  cause?: unknown;
}

/** The two calls ensureCA needs; kubeSecretStore() is the real one, memorySecretStore() the test one. */
export interface SecretStore {
  /** undefined when the Secret does not exist (404) */
  read(namespace: string, name: string): Promise<V1Secret | undefined>;
  /** 'exists' when a Secret of that name already exists (409 AlreadyExists) */
  create(namespace: string, secret: V1Secret): Promise<'created' | 'exists'>;
}

export function kubeSecretStore(core: CoreV1Api): SecretStore {
  return {
    async read(namespace, name) {
      try {
        return await core.readNamespacedSecret({ namespace, name });
      } catch (e) {
        if ((e as { code?: number }).code === 404) return undefined;
        throw e;
      }
    },
    async create(namespace, body) {
      try {
        await core.createNamespacedSecret({ namespace, body });
        return 'created';
      } catch (e) {
        if ((e as { code?: number }).code === 409) return 'exists';
        throw e;
      }
    },
  };
}

/** An in-memory store with the apiserver's create semantics (first create wins), for unit tests. */
export function memorySecretStore(): SecretStore & { secrets: Map<string, V1Secret> } {
  const secrets = new Map<string, V1Secret>();
  return {
    secrets,
    async read(namespace, name) {
      await Promise.resolve();
      return secrets.get(`${namespace}/${name}`);
    },
    async create(namespace, secret) {
      await Promise.resolve();
      const key = `${namespace}/${secret.metadata?.name ?? ''}`;
      if (secrets.has(key)) return 'exists';
      secrets.set(key, structuredClone(secret));
      return 'created';
    },
  };
}

export interface CreateCAOptions {
  commonName?: string;
  validityDays?: number;
  now?: Date;
}

/** A fresh self-signed CA (pathLen 0: it signs leaf certificates only). */
export async function createCA(opts: CreateCAOptions = {}): Promise<CertificateAuthority> {
  const now = opts.now ?? new Date();
  const keys = await generateP256();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: new x509.Name([{ CN: [opts.commonName ?? CA_COMMON_NAME] }, { O: ['spiderpool-ts'] }]),
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + (opts.validityDays ?? CA_VALIDITY_DAYS) * DAY_MS),
    signingAlgorithm: EC_P256,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = cert.toString('pem');
  return { certPem, cert, nodeCert: new NodeX509(certPem), privateKey: keys.privateKey, publicKey: keys.publicKey };
}

/** The Secret that stores a CA: kubernetes.io/tls (tls.crt, tls.key) plus ca.crt (= tls.crt). */
export async function caSecret(ca: CertificateAuthority, namespace: string, name = CA_SECRET_NAME): Promise<V1Secret> {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'spiderpool-ts', 'app.kubernetes.io/component': 'ca' } },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64(ca.certPem), 'tls.key': b64(await privateKeyPem(ca.privateKey)), 'ca.crt': b64(ca.certPem) },
  };
}

/** Loads and checks a CA Secret: a CA certificate, a P-256 key that is its key, not expired. */
export async function caFromSecret(secret: V1Secret, now = new Date()): Promise<Result<CertificateAuthority, CAError>> {
  const id = `${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? ''}`;
  const bad = (message: string, cause?: unknown): { ok: false; error: CAError } => ({
    ok: false,
    error: { reason: 'malformed-secret', secret: id, message: `CA Secret ${id}: ${message}`, ...(cause === undefined ? {} : { cause }) },
  });
  const field = (k: string) => {
    const v = secret.data?.[k];
    return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
  };
  const certPem = field('tls.crt');
  const keyPem = field('tls.key');
  if (!certPem || !keyPem) return bad('tls.crt or tls.key is missing');
  let cert: x509.X509Certificate;
  let privateKey: CryptoKey;
  let publicKey: CryptoKey;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch (e) {
    return bad('tls.crt is not a PEM certificate', e);
  }
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca) return bad('tls.crt is not a CA certificate (basicConstraints CA:TRUE missing)');
  try {
    privateKey = await importP256PrivateKey(keyPem);
    publicKey = await cert.publicKey.export(EC_P256, ['verify']);
  } catch (e) {
    return bad('tls.key is not a PKCS#8 ECDSA P-256 key, or tls.crt has no P-256 public key', e);
  }
  const priv = await crypto.subtle.exportKey('jwk', privateKey);
  const pub = await crypto.subtle.exportKey('jwk', publicKey);
  if (priv.x !== pub.x || priv.y !== pub.y) return bad('tls.key is not the key of tls.crt');
  if (cert.notAfter.getTime() <= now.getTime()) {
    return {
      ok: false,
      error: { reason: 'ca-expired', secret: id, message: `CA Secret ${id}: the CA expired at ${cert.notAfter.toISOString()} (rotation: ADR 0006)` },
    };
  }
  const pem = cert.toString('pem');
  return { ok: true, value: { certPem: pem, cert, nodeCert: new NodeX509(pem), privateKey, publicKey } };
}

export interface EnsureCAOptions extends CreateCAOptions {
  namespace: string;
  name?: string;
}

export interface EnsuredCA {
  ca: CertificateAuthority;
  /** created: ours was stored; loaded: it existed; adopted: we lost a create race and use the winner's */
  origin: 'created' | 'loaded' | 'adopted';
}

/** Loads the CA Secret, or creates it if absent (create-or-get; racing replicas end with one CA). */
export async function ensureCA(store: SecretStore, opts: EnsureCAOptions): Promise<Result<EnsuredCA, CAError>> {
  const name = opts.name ?? CA_SECRET_NAME;
  const id = `${opts.namespace}/${name}`;
  const apiError = (what: string, cause: unknown): { ok: false; error: CAError } => ({
    ok: false,
    error: { reason: 'api-error', secret: id, message: `CA Secret ${id}: ${what} failed: ${(cause as Error)?.message ?? String(cause)}`, cause },
  });
  const load = async (s: V1Secret, origin: EnsuredCA['origin']): Promise<Result<EnsuredCA, CAError>> => {
    const r = await caFromSecret(s, opts.now);
    return r.ok ? { ok: true, value: { ca: r.value, origin } } : r;
  };
  // A Secret deleted between our 409 and our read sends us round again; three rounds is plenty.
  for (let round = 0; round < 3; round++) {
    let existing: V1Secret | undefined;
    try {
      existing = await store.read(opts.namespace, name);
    } catch (e) {
      return apiError('read', e);
    }
    if (existing) return load(existing, round === 0 ? 'loaded' : 'adopted');
    const candidate = await createCA(opts);
    let outcome: 'created' | 'exists';
    try {
      outcome = await store.create(opts.namespace, await caSecret(candidate, opts.namespace, name));
    } catch (e) {
      return apiError('create', e);
    }
    if (outcome === 'created') return { ok: true, value: { ca: candidate, origin: 'created' } };
    // Lost the race: loop to read the winner's.
    try {
      existing = await store.read(opts.namespace, name);
    } catch (e) {
      return apiError('read', e);
    }
    if (existing) return load(existing, 'adopted');
  }
  return { ok: false, error: { reason: 'race-unresolved', secret: id, message: `CA Secret ${id}: created and deleted concurrently three times` } };
}

export const CA_BUNDLE_CONFIGMAP = 'spiderpool-ts-ca-bundle';

/**
 * Publishes the CA certificate (public) as ConfigMap data `ca.crt`, for the plugin installer to
 * mount: it is the trust anchor with which the installer verifies the /enroll server before sending
 * its token. Creates, or replaces when the content differs; concurrent replicas write the same bytes.
 */
export async function publishCABundle(
  core: CoreV1Api,
  opts: { namespace: string; name?: string; caPem: string },
): Promise<Result<'created' | 'updated' | 'unchanged', CAError>> {
  const name = opts.name ?? CA_BUNDLE_CONFIGMAP;
  const id = `${opts.namespace}/${name}`;
  const body = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: opts.namespace, labels: { 'app.kubernetes.io/managed-by': 'spiderpool-ts', 'app.kubernetes.io/component': 'ca' } },
    data: { 'ca.crt': opts.caPem },
  };
  const failed = (what: string, e: unknown): { ok: false; error: CAError } => ({
    ok: false,
    error: { reason: 'api-error', secret: id, message: `CA bundle ConfigMap ${id}: ${what} failed: ${(e as Error)?.message ?? String(e)}`, cause: e },
  });
  for (let round = 0; round < 3; round++) {
    let current;
    try {
      current = await core.readNamespacedConfigMap({ namespace: opts.namespace, name });
    } catch (e) {
      if ((e as { code?: number }).code !== 404) return failed('read', e);
      try {
        await core.createNamespacedConfigMap({ namespace: opts.namespace, body });
        return { ok: true, value: 'created' };
      } catch (c) {
        if ((c as { code?: number }).code === 409) continue;
        return failed('create', c);
      }
    }
    if (current.data?.['ca.crt'] === opts.caPem) return { ok: true, value: 'unchanged' };
    try {
      const metadata = { ...body.metadata, ...(current.metadata?.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}) };
      await core.replaceNamespacedConfigMap({ namespace: opts.namespace, name, body: { ...body, metadata } });
      return { ok: true, value: 'updated' };
    } catch (e) {
      if ((e as { code?: number }).code === 409) continue;
      return failed('replace', e);
    }
  }
  return failed('write', new Error('conflicts three times in a row'));
}
