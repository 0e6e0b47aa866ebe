// The Lease's API client, on a connection pool of its own. A renew must not pay a TLS handshake on a
// CPU-starved machine (client-node opens a new connection per request otherwise), nor share its
// connections with the informers' lists and watches and the allocator's block writes: its
// connection stays warm (a renew every retryPeriod is well within undici's keep-alive) and is idle
// whenever a renew is due.
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { apiClientWith, ownConnections } from './kube-connections.js';

export function leaseApi(kc: KubeConfig): CoordinationV1Api {
  return apiClientWith(kc, CoordinationV1Api, ownConnections(kc), 'leader election');
}
