// The operator process: configuration from the environment (every problem named, exit 2), then the
// operator (operator.ts). SIGTERM/SIGINT: stop taking calls and let running ones finish while still
// leading, then hand the Lease over and exit; a second signal exits at once.
import { X509Certificate } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, loadConfig } from './config.js';
import { shareConnections } from './framework/kube-connections.js';
import { createLogger } from './framework/logger.js';
import { createOperator } from './operator.js';
import { type InClusterPki, startInClusterPki } from './security/bootstrap.js';
import { nodeAuthenticator } from './security/peer-identity.js';

let config;
try {
  config = loadConfig(process.env);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  for (const p of e.problems) process.stderr.write(`spiderpool-ts-operator: ${p}\n`);
  process.exit(2);
}
const log = createLogger({ level: config.logLevel, defaultMeta: { operator: config.podName } });
const kc = new KubeConfig();
if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
else kc.loadFromDefault();
// client-node opens a new TLS connection per request otherwise (framework/kube-connections.ts).
shareConnections(kc);

// TLS_MODE=operator-ca (config/manager): the CA from its Secret, this replica's serving certificate
// and /enroll for the installer (ADR 0006); without it the certificates come from TLS_*_FILE.
let pki: InClusterPki | undefined;
if (config.pki) {
  try {
    pki = await startInClusterPki(kc, { namespace: config.namespace, enrollHost: config.grpcHost, ...config.pki }, log);
  } catch (error) {
    log.error('operator PKI failed: not starting', { error });
    process.exit(1);
  }
  config = { ...config, tls: pki.tls };
}

// Node certificates must carry O=spiderpool-ts:nodes and clientAuth and be issued by the client CA
// (ADR 0006), not merely chain to it.
const operator = createOperator(config, kc, log, { authenticate: nodeAuthenticator({ ca: new X509Certificate(config.tls.clientCA) }) });
await operator.start();

let stopping = false;
const shutdown = (signal: NodeJS.Signals) => {
  if (stopping) {
    log.warn('second signal: exiting without draining', { signal });
    process.exit(1);
  }
  stopping = true;
  log.info('signal received: draining', { signal });
  operator
    .stop()
    .then(() => pki?.close())
    .then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', { error });
        process.exit(1);
      },
    );
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
