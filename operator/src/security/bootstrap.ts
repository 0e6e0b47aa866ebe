// The operator's PKI inside a cluster (TLS_MODE=operator-ca; ADR 0006 "How the service author
// wires it"): the CA from Secret spiderpool-ts-ca (created once by whichever replica comes first),
// published as ConfigMap spiderpool-ts-ca-bundle for the installer, a fresh serving certificate for
// this replica (gRPC and /enroll), and the /enroll HTTPS server. Every replica runs it: enrollment
// needs only the CA, not leadership. Needs exactly the namespaced RBAC in config/rbac/operator_role.yaml
// plus `create tokenreviews` and `get pods`.
import { X509Certificate } from 'node:crypto';
import type { Server } from 'node:https';
import { AuthenticationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../framework/logger.js';
import { ensureCA, kubeSecretStore, publishCABundle } from './ca.js';
import { createEnrollHandler, createEnrollServer, kubePodGetter, kubeTokenReviewer } from './enroll-server.js';
import { issueServerCertificate } from './issue.js';

export interface InClusterPkiConfig {
  /** the operator's namespace: the CA Secret and the bundle ConfigMap live here */
  namespace: string;
  /** SANs of the serving certificate: the Service's DNS names; this pod's IP */
  serverDnsNames: readonly string[];
  serverIPAddresses: readonly string[];
  enrollHost: string;
  /** 0: any free port (tests) */
  enrollPort: number;
  installer: { namespace: string; serviceAccount: string };
}

export interface InClusterPki {
  /** what the gRPC server presents and trusts */
  tls: { certChain: Buffer; privateKey: Buffer; clientCA: Buffer };
  /** the CA, for the strict node authenticator */
  caCert: X509Certificate;
  enrollPort: number;
  close(): Promise<void>;
}

/** Loads or creates the CA, publishes its bundle, issues this replica's certificate and serves /enroll. Throws an Error naming the step. */
export async function startInClusterPki(kc: KubeConfig, cfg: InClusterPkiConfig, log: Logger): Promise<InClusterPki> {
  const core = kc.makeApiClient(CoreV1Api);
  const ensured = await ensureCA(kubeSecretStore(core), { namespace: cfg.namespace });
  if (!ensured.ok) throw new Error(`operator CA: ${ensured.error.message}`, { cause: ensured.error.cause });
  const { ca, origin } = ensured.value;
  const bundle = await publishCABundle(core, { namespace: cfg.installer.namespace, caPem: ca.certPem });
  if (!bundle.ok) throw new Error(`operator CA bundle: ${bundle.error.message}`, { cause: bundle.error.cause });
  if (cfg.serverDnsNames.length === 0) throw new Error('SERVER_DNS_NAMES is empty: the serving certificate needs the Service DNS name the shim verifies');
  const server = await issueServerCertificate(ca, { dnsNames: cfg.serverDnsNames, ipAddresses: cfg.serverIPAddresses });

  const enroll = createEnrollServer({
    serverCert: server,
    handler: createEnrollHandler({
      ca,
      installer: cfg.installer,
      reviewToken: kubeTokenReviewer(kc.makeApiClient(AuthenticationV1Api)),
      getPod: kubePodGetter(core),
      log: log.child({ component: 'enroll' }),
    }),
  });
  const enrollPort = await new Promise<number>((resolve, reject) => {
    enroll.once('error', reject);
    enroll.listen(cfg.enrollPort, cfg.enrollHost, () => {
      enroll.off('error', reject);
      resolve((enroll.address() as { port: number }).port);
    });
  });
  log.info('operator PKI ready', {
    ca: `${cfg.namespace}/spiderpool-ts-ca`,
    caOrigin: origin,
    bundle: bundle.value,
    serverNames: [...cfg.serverDnsNames, ...cfg.serverIPAddresses],
    enroll: `${cfg.enrollHost}:${enrollPort}`,
  });
  return {
    tls: { certChain: Buffer.from(server.chainPem), privateKey: Buffer.from(server.keyPem), clientCA: Buffer.from(ca.certPem) },
    caCert: ca.nodeCert,
    enrollPort,
    close: () => closeServer(enroll),
  };
}

function closeServer(s: Server): Promise<void> {
  return new Promise((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });
}
