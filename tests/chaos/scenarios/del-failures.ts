// 5. 20 % of CNI DELs fail: the simulated runtime answers a deterministic 20 % of DEL execs (every
// 5th per node) with an injected CNI error without running the plugin (nodesim --fail-del-percent 20
// --fail-del-mode mixed): every other injected failure is retried by the kubelet loop (StopPodSandbox
// again, with backoff), the others are lost (the sandbox is dropped as if the DEL had happened and the
// pod is finalised: the IPAM never hears of it). Load: a rollout of N pods, every pod deleted at once
// (the ReplicaSet recreates them), then a scale-down to N/2. The pool holds N + 5 addresses: the
// recreated pods need the addresses whose DEL was lost, so the GC must release them promptly.
import { waitFor } from '../../integration/helpers/wait.js';
import type { ChaosScenario } from '../scenario.js';

export const delFailures: ChaosScenario = {
  name: 'del-failures',
  title: '20 % of CNI DELs fail (half retried, half lost)',
  defaultPods: 100,
  ciPods: 30,
  size: (pods) => ({ nodes: 2, poolSize: pods + 5, nodesimArgs: ['--fail-del-percent', '20', '--fail-del-mode', 'mixed'] }),
  async run({ stack, pods, figures, say }) {
    await stack.createDeployment('app', pods);
    await stack.waitRunning('app=app', pods, 60_000 + 2000 * pods, 'rollout');
    const t = Date.now();
    say('deleting every pod');
    await stack.core.deleteCollectionNamespacedPod({ namespace: stack.namespace, labelSelector: 'app=app' });
    await stack.waitRunning('app=app', pods, 120_000 + 2000 * pods, 'after deleting every pod');
    figures.rebuildSec = (Date.now() - t) / 1000;
    const half = Math.floor(pods / 2);
    const t2 = Date.now();
    await stack.apps.patchNamespacedDeploymentScale({ name: 'app', namespace: stack.namespace, body: [{ op: 'replace', path: '/spec/replicas', value: half }] });
    await stack.waitRunning('app=app', half, 60_000, 'after the scale-down');
    await waitFor(`only ${half} pods left`, async () => {
      const n = (await stack.pods('app=app')).length;
      return { ok: n === half, detail: `${n} pods` };
    }, 60_000 + 1000 * pods, 1000);
    figures.scaleDownSec = (Date.now() - t2) / 1000;
    const sum = await stack.simSummary();
    figures.delInjected = sum?.delInjected;
    figures.delLost = sum?.delLost;
    figures.delFailures = sum?.delFailures;
    return { expectedRunning: half };
  },
};
