// Connection reuse over client-node: without it every request gets a new undici Agent (= a new TLS
// connection); with shareConnections all clients of a KubeConfig share one pool; the Lease's client
// (leaseApi) has a pool of its own. No network: only which dispatcher each request is given.
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { ownConnections, shareConnections } from '../../src/framework/kube-connections.js';

function kubeconfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', caData: Buffer.from('not a real CA').toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function dispatcherOf(apply: (c: RequestContext) => Promise<void> | void): Promise<{ dispatcher: unknown; auth: string | undefined }> {
  const context = new RequestContext('https://127.0.0.1:1/api/v1/namespaces', HttpMethod.GET);
  await apply(context);
  return { dispatcher: context.getDispatcher(), auth: context.getHeaders()['Authorization'] };
}

describe('kube connections', () => {
  it('client-node alone builds a new dispatcher (connection pool) per request — what this works around', async () => {
    const kc = kubeconfig();
    const a = await dispatcherOf((c) => kc.applySecurityAuthentication(c));
    const b = await dispatcherOf((c) => kc.applySecurityAuthentication(c));
    expect(a.dispatcher).toBeDefined();
    expect(a.dispatcher).not.toBe(b.dispatcher);
  });

  it('shareConnections: every request of the KubeConfig reuses one dispatcher and still carries the credentials', async () => {
    const kc = shareConnections(kubeconfig());
    const a = await dispatcherOf((c) => kc.applySecurityAuthentication(c));
    const b = await dispatcherOf((c) => kc.applySecurityAuthentication(c));
    expect(a.dispatcher).toBeDefined();
    expect(b.dispatcher).toBe(a.dispatcher);
    expect(b.auth).toBe('Bearer secret-token');
  });

  it('ownConnections (the Lease client): one dispatcher of its own, not the shared one', async () => {
    const kc = shareConnections(kubeconfig());
    const shared = await dispatcherOf((c) => kc.applySecurityAuthentication(c));
    const lease = ownConnections(kc);
    const a = await dispatcherOf((c) => lease.applySecurityAuthentication(c));
    const b = await dispatcherOf((c) => lease.applySecurityAuthentication(c));
    expect(a.dispatcher).toBeDefined();
    expect(b.dispatcher).toBe(a.dispatcher);
    expect(a.dispatcher).not.toBe(shared.dispatcher);
    expect(a.auth).toBe('Bearer secret-token');
  });
});
