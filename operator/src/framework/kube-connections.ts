// Connection reuse for @kubernetes/client-node 2.0.1, which builds a new undici Agent — and so opens a
// new TCP + TLS connection, client certificate included — for EVERY request (KubeConfig
// .applySecurityAuthentication → createDispatcher, uncached). Under load that is a TLS handshake per
// SpiderEndpoint write, pool-status write, Lease renew and informer re-list, on both the operator's
// and the apiserver's CPU. Pinning the first request's Agent gives keep-alive connection pooling
// (undici: unlimited connections per origin, one request per connection at a time, so requests never
// queue behind each other for a socket) while the KubeConfig still sets per-request credentials
// (bearer tokens) on each request.
import { KubeConfig, type RequestContext, type SecurityAuthentication, ServerConfiguration, createConfiguration } from '@kubernetes/client-node';

/** An auth method that applies kc's credentials and reuses one connection pool for every request. */
export function pooledAuth(kc: KubeConfig, apply: (context: RequestContext) => Promise<void> = (c) => kc.applySecurityAuthentication(c)): SecurityAuthentication {
  let pooled: ReturnType<RequestContext['getDispatcher']>;
  return {
    getName: () => 'kubeconfig-pooled',
    async applySecurityAuthentication(context: RequestContext) {
      await apply(context);
      pooled ??= context.getDispatcher();
      if (pooled) context.setDispatcher(pooled);
    },
  };
}

/**
 * Makes every client built from kc (makeApiClient, Watch) share one keep-alive connection pool.
 * Mutates kc (its own applySecurityAuthentication); returns it for chaining.
 */
export function shareConnections(kc: KubeConfig): KubeConfig {
  const auth = pooledAuth(kc, (context) => KubeConfig.prototype.applySecurityAuthentication.call(kc, context));
  kc.applySecurityAuthentication = async (context) => {
    await auth.applySecurityAuthentication(context);
  };
  return kc;
}

/** A connection pool of its own (not kc's shared one), e.g. for the Lease: see leader-election-client.ts. */
export function ownConnections(kc: KubeConfig): SecurityAuthentication {
  return pooledAuth(kc, (context) => KubeConfig.prototype.applySecurityAuthentication.call(kc, context));
}

/** An API client of kc's cluster that authenticates (and pools connections) through `auth`. */
export function apiClientWith<T>(kc: KubeConfig, Api: new (config: ReturnType<typeof createConfiguration>) => T, auth: SecurityAuthentication, what: string): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`${what}: the kubeconfig has no current cluster`);
  return new Api(createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: auth } }));
}
