// Jest loads global setup/teardown outside its module mapper, so these two import with .ts suffixes.
// Jest global setup for the integration project: bring the local control plane up once for the whole
// run. A cold machine builds Kubernetes here (hack/controlplane/build.sh prints its progress).
import { writeFileSync } from 'node:fs';
import { clusterDir, ensureCluster, isClusterReady } from './cluster.ts';
import { startedMarker } from './global-teardown.ts';

export default async function globalSetup(): Promise<void> {
  const wasUp = await isClusterReady();
  const { kubeconfigPath } = await ensureCluster({ progress: true });
  if (!wasUp) writeFileSync(startedMarker, `${process.pid}\n`);
  process.stderr.write(`integration tests use the cluster in ${clusterDir} (kubeconfig ${kubeconfigPath})\n`);
}
