// 7. ADD for a pod that was already deleted — must be refused and must not leak. Bare pods bound to a
// node no simulator runs (the scenario plays their runtime), while a Deployment of N pods rolls out:
//   gone        the pod was deleted (404): ADD with its uid refused;
//   reused      the pod was deleted and a new pod of the same name created: ADD with the old uid
//               refused (the new pod's own ADD then succeeds; it is deleted without a DEL later);
//   terminating the pod is being deleted (deletionTimestamp; a finalizer keeps it): ADD refused;
//   racing      ADD and the deletion issued at the same moment: either outcome is allowed, but after
//               the settle time nothing may be left recorded for it.
import { randomBytes } from 'node:crypto';
import { waitFor } from '../../integration/helpers/wait.js';
import type { ChaosScenario } from '../scenario.js';

const cid = () => randomBytes(32).toString('hex');

export const addDeletedPod: ChaosScenario = {
  name: 'add-deleted-pod',
  title: 'ADD for a pod already deleted (gone, name reused, Terminating, racing the delete)',
  defaultPods: 100,
  ciPods: 20,
  size: (pods) => ({ nodes: 1, poolSize: pods + 4 * Math.max(5, Math.ceil(pods / 10)) + 5 }),
  async run({ stack, pods, figures, say }) {
    await stack.createManualNode();
    await stack.createDeployment('app', pods);
    const m = Math.max(5, Math.ceil(pods / 10));
    const problems: string[] = [];
    const ns = stack.namespace;
    const gone = async (name: string) => waitFor(`pod ${name} gone`, async () => ({ ok: !(await stack.core.readNamespacedPod({ name, namespace: ns }).catch(() => undefined)), detail: 'still there' }), 30_000, 200);
    const refused: Record<string, number> = { gone: 0, reused: 0, terminating: 0, racingRefused: 0, racingAccepted: 0 };

    for (let i = 0; i < m; i++) {
      // gone
      const a = await stack.createManualPod(`gone-${i}`);
      await stack.core.deleteNamespacedPod({ name: a.metadata!.name!, namespace: ns, gracePeriodSeconds: 0 });
      await gone(a.metadata!.name!);
      const ra = await stack.cniAdd({ name: a.metadata!.name!, uid: a.metadata!.uid! }, cid());
      if (ra.ok) problems.push(`ADD for deleted pod ${a.metadata!.name} accepted: ${ra.ips.join()}`);
      else refused.gone!++;

      // reused name
      const b = await stack.createManualPod(`reused-${i}`);
      await stack.core.deleteNamespacedPod({ name: b.metadata!.name!, namespace: ns, gracePeriodSeconds: 0 });
      await gone(b.metadata!.name!);
      const b2 = await stack.createManualPod(`reused-${i}`);
      const rb = await stack.cniAdd({ name: b.metadata!.name!, uid: b.metadata!.uid! }, cid());
      if (rb.ok) problems.push(`ADD with the old uid of ${b.metadata!.name} accepted: ${rb.ips.join()}`);
      else refused.reused!++;
      const rb2 = await stack.cniAdd({ name: b2.metadata!.name!, uid: b2.metadata!.uid! }, cid());
      if (!rb2.ok) problems.push(`ADD for the new ${b2.metadata!.name} refused: ${rb2.msg}`);

      // terminating (held by a finalizer)
      const c = await stack.createManualPod(`terminating-${i}`, true);
      await stack.core.deleteNamespacedPod({ name: c.metadata!.name!, namespace: ns, gracePeriodSeconds: 0 });
      const rc = await stack.cniAdd({ name: c.metadata!.name!, uid: c.metadata!.uid! }, cid());
      if (rc.ok) problems.push(`ADD for Terminating pod ${c.metadata!.name} accepted: ${rc.ips.join()}`);
      else refused.terminating!++;
      await stack.removeFinalizers(c.metadata!.name!);

      // racing
      const d = await stack.createManualPod(`racing-${i}`);
      const [rd] = await Promise.all([stack.cniAdd({ name: d.metadata!.name!, uid: d.metadata!.uid! }, cid()), stack.core.deleteNamespacedPod({ name: d.metadata!.name!, namespace: ns, gracePeriodSeconds: 0 })]);
      if (rd.ok) refused.racingAccepted!++;
      else refused.racingRefused!++;
    }
    Object.assign(figures, { perCase: m, outcomes: refused });
    if (problems.length) throw new Error(`${problems.length} ADDs for deleted pods accepted: ${problems.slice(0, 5).join('; ')}`);
    // The reused pods' new incarnations go without a DEL (GC).
    say('deleting the reused pods without DEL');
    for (let i = 0; i < m; i++) await stack.core.deleteNamespacedPod({ name: `reused-${i}`, namespace: ns, gracePeriodSeconds: 0 });
    await stack.waitRunning('app=app', pods, 60_000 + 2000 * pods, 'rollout');
    return { expectedRunning: pods };
  },
};
