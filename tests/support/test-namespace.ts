// What every integration test on the shared cluster starts from: a client for the local control plane,
// every CRD of ours installed (a cluster started before a CRD existed gets it here), a fresh namespace
// with its default ServiceAccount, and a Node object of its own (no kubelet: tests set spec.nodeName).
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { waitFor } from '../integration/helpers/wait.js';
import { ensureCluster, kubectl, kubeconfigPath, repoRoot } from './cluster.js';

export interface TestNamespace {
  kc: KubeConfig;
  /** `<prefix>-<6 hex>` */
  ns: string;
  /** `<ns>-node`, labelled spiderpool-ts.io/test=<prefix> */
  node: string;
}

export async function createTestNamespace(prefix: string): Promise<TestNamespace> {
  await ensureCluster();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=spiderpool-ts-tests', '-k', `${repoRoot}/crds/`]);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/ipamblocks.ipam.spiderpool-ts.io']);
  const ns = `${prefix}-${randomBytes(3).toString('hex')}`;
  const node = `${ns}-node`;
  await kubectl(['create', 'namespace', ns]);
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: node, labels: { 'spiderpool-ts.io/test': prefix } } }) });
  await waitFor(
    `serviceaccount default in ${ns}`,
    async () => {
      const out = await kubectl(['get', 'serviceaccount', 'default', '-n', ns, '--ignore-not-found', '-o', 'name']);
      return { ok: out.trim() !== '', detail: out };
    },
    30_000,
    200,
  );
  return { kc, ns, node };
}
