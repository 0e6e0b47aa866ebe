// 4. Power off a simulated node with N pods: the node runs in its own simulator process; the other
// nodes are cordoned while the Deployment's N pods start, so all N land on it; then they are
// uncordoned and the node's simulator gets SIGKILL (no CNI DEL, no status, no Lease renewals). The
// node goes NotReady (kube-controller-manager, --node-monitor-grace-period 20s on the chaos
// cluster), its pods are evicted after their 5 s not-ready/unreachable toleration and stay
// Terminating (no kubelet confirms), the ReplicaSet creates replacements elsewhere. The pool holds
// N + 5 addresses, so the replacements can only start once the GC has released what the dead node
// held (Terminating pod on a NotReady node: after its grace period). Then the node is powered on
// (same state dir): it DELs its dead sandboxes by their old container ids — which must not free the
// addresses now held by the replacements — and finalises the Terminating pods.
import type { ChaosScenario } from '../scenario.js';
import { Stack } from '../stack.js';
import { waitFor } from '../../integration/helpers/wait.js';

export const nodePowerOff: ChaosScenario = {
  name: 'node-poweroff',
  title: 'power off a simulated node with all the pods, power it on later',
  defaultPods: 100,
  ciPods: 30,
  size: (pods) => ({ nodes: 2, poolSize: pods + 5 }),
  async run({ stack, cluster, pods, figures, say }) {
    for (const n of stack.nodeNames) await cluster.kubectl(['cordon', n]);
    await stack.startVictim();
    await stack.createDeployment('app', pods, { notReadyTolerationSeconds: 5 });
    await stack.waitRunning('app=app', pods, 60_000 + 2000 * pods, `on ${stack.victimNode}`);
    const onVictim = (await stack.pods('app=app')).filter((p) => p.spec?.nodeName === stack.victimNode).length;
    figures.podsOnNode = onVictim;
    for (const n of stack.nodeNames) await cluster.kubectl(['uncordon', n]);
    const victimUids = new Set((await stack.pods('app=app')).filter((p) => p.spec?.nodeName === stack.victimNode).map((p) => p.metadata!.uid!));

    say('power off', { node: stack.victimNode, pods: onVictim });
    const tOff = Date.now();
    await stack.victimSim!.powerOff();
    // Sample: when does the node go NotReady, when are the dead node's records released.
    let gcReleasedSec: number | null = null;
    let notReadySec: number | null = null;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          if (notReadySec === null) {
            const n = await stack.core.readNode({ name: stack.victimNode });
            if (!n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) notReadySec = (Date.now() - tOff) / 1000;
          }
          if (gcReleasedSec === null && (await stack.records()).every((r) => !victimUids.has(r.uid))) gcReleasedSec = (Date.now() - tOff) / 1000;
        } catch {
          /* the next sample */
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    try {
      await waitFor(`${pods} replacements Running on the other nodes`, async () => {
        const n = Stack.running(await stack.pods('app=app')).filter((p) => p.spec?.nodeName !== stack.victimNode).length;
        return { ok: n >= pods, detail: `${n}/${pods} Running elsewhere` };
      }, 180_000 + 1500 * pods, 1000);
      figures.allRunningAfterPowerOffSec = (Date.now() - tOff) / 1000;
      await waitFor('the dead node\'s records released', async () => ({ ok: gcReleasedSec !== null, detail: 'still held' }), 60_000, 500);
    } finally {
      sampling = false;
      await sampler;
    }
    figures.notReadyAfterSec = notReadySec;
    figures.gcReleasedAfterSec = gcReleasedSec;
    figures.terminatingWhileOff = (await stack.pods('app=app')).filter((p) => p.metadata?.deletionTimestamp).length;

    say('power on', { node: stack.victimNode });
    const tOn = Date.now();
    await stack.startVictim();
    await waitFor('Terminating pods finalised by the powered-on node', async () => {
      const left = (await stack.pods('app=app')).filter((p) => p.metadata?.deletionTimestamp).length;
      return { ok: left === 0, detail: `${left} Terminating` };
    }, 120_000 + 500 * pods, 1000);
    figures.terminatingGoneAfterPowerOnSec = (Date.now() - tOn) / 1000;
    figures.runningAfterPowerOn = Stack.running(await stack.pods('app=app')).length;
    return { expectedRunning: pods };
  },
};
