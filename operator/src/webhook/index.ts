// The admission webhook assembled (ADR 0007): TLS from the operator's CA, the range registry in the
// operator's namespace, handlers over the pool and subnet caches, and the pool-finalizer controller.
// operator.ts always builds one (the finalizer controller) and serves it when WEBHOOK_PORT is set; the
// integration tests build them over scoped caches.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { BlockObject, PoolObject, SubnetObject } from '../controllers/informers.js';
import type { Controller } from '../framework/controller.js';
import type { Informer } from '../framework/informer.js';
import type { Logger } from '../framework/logger.js';
import { type WebhookTLS, injectCABundle, webhookTLS } from './certs.js';
import { apiHeldInPool, liveView } from './pool-admission.js';
import { kubeFinalizerRemover, poolFinalizerController } from './pool-finalizer.js';
import { RANGE_REGISTRY_CONFIGMAP, RangeRegistry, configMapRegistryStore } from './range-registry.js';
import { WebhookServer } from './server.js';

export { WEBHOOK_PATHS } from './server.js';

export interface WebhookOptions {
  kc: KubeConfig;
  /** Namespace of the CA Secret and the range registry ConfigMap (the operator's). */
  namespace: string;
  registryName?: string;
  pools: Informer<PoolObject>;
  subnets: Informer<SubnetObject>;
  blocks: Informer<BlockObject>;
  san: { dnsNames: readonly string[]; ipAddresses: readonly string[] };
  /** Admission configurations whose caBundle we set at start (absent ones are logged). */
  configurations?: { validating: readonly string[]; mutating: readonly string[] };
  log: Logger;
  /** Pool finalizer: minimum age of a deletion before the finalizer goes (default 3 s). */
  finalizerSettleMs?: number;
}

export interface Webhook {
  /** Leader-only: removes the pool finalizer once a deleted pool holds nothing. */
  finalizer: Controller;
  /** Issues the certificate, injects the CA bundle, serves; resolves with the bound port. */
  start(host: string, port: number): Promise<{ port: number; tls: WebhookTLS }>;
  stop(): Promise<void>;
}

export function createWebhook(opts: WebhookOptions): Webhook {
  const log = opts.log.child({ component: 'webhook' });
  const heldInPool = apiHeldInPool(opts.kc);
  const registry = new RangeRegistry({
    store: configMapRegistryStore(opts.kc.makeApiClient(CoreV1Api), opts.namespace, opts.registryName ?? RANGE_REGISTRY_CONFIGMAP),
    live: liveView(() => opts.pools.list(), () => opts.subnets.list()),
  });
  const finalizer = poolFinalizerController({
    pools: opts.pools,
    blocks: opts.blocks,
    heldInPool,
    removeFinalizer: kubeFinalizerRemover(opts.kc),
    log,
    ...(opts.finalizerSettleMs !== undefined ? { settleMs: opts.finalizerSettleMs } : {}),
  });
  let server: WebhookServer | undefined;
  return {
    finalizer,
    async start(host, port) {
      const tls = await webhookTLS(opts.kc, opts.namespace, opts.san);
      server = new WebhookServer({
        certChainPem: tls.serving.chainPem,
        keyPem: tls.serving.keyPem,
        deps: { registry, pools: () => opts.pools.list(), subnets: () => opts.subnets.list(), heldInPool, log },
        log,
      });
      const bound = await server.listen(host, port);
      if (opts.configurations) {
        for (const p of await injectCABundle(opts.kc, tls.ca.certPem, opts.configurations)) log.warn('caBundle not injected', { problem: p });
      }
      log.info('admission webhook serving', { address: `${host}:${bound}`, dnsNames: opts.san.dnsNames, ipAddresses: opts.san.ipAddresses });
      return { port: bound, tls };
    },
    async stop() {
      await server?.stop();
    },
  };
}
