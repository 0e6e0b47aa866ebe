// CNI inputs for shim tests: a network config pointing at a test server, and runtime env per command.
import { join } from 'node:path';
import type { Pki } from './pki.js';

export const POD = { namespace: 'team-a', name: 'web-7d9f-x2x', uid: '2b6f0c1e-5f2a-4d5e-9a51-0c1f2e3d4a5b' };

export function netConf(endpoint: string, pki: Pki, top: Record<string, unknown> = {}, ipam: Record<string, unknown> = {}): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'macvlan-net',
    type: 'macvlan',
    master: 'eth0',
    ipam: {
      type: 'spiderpool-ts-ipam',
      operator_endpoint: endpoint,
      tls_ca_file: pki.caFile,
      tls_cert_file: pki.clientCertFile,
      tls_key_file: pki.clientKeyFile,
      log_file_path: join(pki.dir, 'log', 'ipam.log'),
      node_name: 'node-1',
      default_ipv4_ippool: ['default-v4'],
      timeout_ms: 3000,
      ...ipam,
    },
    ...top,
  });
}

export function cniEnv(command: string, patch: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: 'c0ffee01',
    CNI_NETNS: '/var/run/netns/cni-c0ffee01',
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/opt/cni/bin',
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${POD.namespace};K8S_POD_NAME=${POD.name};K8S_POD_UID=${POD.uid};K8S_POD_INFRA_CONTAINER_ID=c0ffee01`,
    ...patch,
  };
}

/** A port nothing listens on: bind an ephemeral port and close it. */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
