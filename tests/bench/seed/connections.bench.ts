// Per-request wall time and client CPU of an API read, client-node as shipped (a new TLS connection
// per request) against shareConnections (operator/src/framework/kube-connections.ts). Run on the
// local control plane, ideally while it is loaded:
//   node --disable-warning=DEP0180 --import ./hack/register-ts.mjs tests/bench/seed/connections.bench.ts
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { shareConnections } from '../../../operator/src/framework/kube-connections.js';
const N = 200;
async function run(label: string, kc: KubeConfig) {
  const api = kc.makeApiClient(CoreV1Api);
  await api.readNamespace({ name: 'default' });
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < N; i++) await api.readNamespace({ name: 'default' });
  const c = process.cpuUsage(c0); const t = performance.now() - t0;
  console.log(label, { perRequestMs: +(t / N).toFixed(2), cpuPerRequestMs: +((c.user + c.system) / 1000 / N).toFixed(2) });
}
const a = new KubeConfig(); a.loadFromFile(process.env.KUBECONFIG ?? '/tmp/spiderpool-ts-cluster/kubeconfig');
const b = new KubeConfig(); b.loadFromFile(process.env.KUBECONFIG ?? '/tmp/spiderpool-ts-cluster/kubeconfig'); shareConnections(b);
await run('client-node default (new connection per request)', a);
await run('shareConnections (keep-alive pool)', b);
await run('client-node default (new connection per request)', a);
await run('shareConnections (keep-alive pool)', b);
process.exit(0);
