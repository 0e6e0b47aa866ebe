// 6. Duplicate ADDs for the same container (a runtime that retries an ADD it timed out on, or two
// ADDs racing): (a) for pods the simulator runs, the shim is exec'd again with the pod's own
// sandbox id and ifname, twice in a row and then three at once — every answer must be the address
// the pod already has; (b) for bare pods bound to a node no simulator runs, the very first ADD is
// four concurrent execs of the same container id, then one more — all must return one and the same
// address, recorded once. Half of those pods then get a DEL, the other half are deleted without one
// (the GC must release them). A Deployment of N pods runs on the simulated node meanwhile.
import { randomBytes } from 'node:crypto';
import { listSandboxes } from '../../nodesim/sandboxes.js';
import type { ChaosScenario } from '../scenario.js';
import { Stack } from '../stack.js';

export const duplicateAdd: ChaosScenario = {
  name: 'duplicate-add',
  title: 'duplicate ADDs for the same container (sequential and concurrent)',
  defaultPods: 100,
  ciPods: 20,
  size: (pods) => ({ nodes: 1, poolSize: pods + Math.max(5, Math.ceil(pods / 5)) + 5 }),
  async run({ stack, pods, figures, say }) {
    await stack.createManualNode();
    await stack.createDeployment('app', pods);
    await stack.waitRunning('app=app', pods, 60_000 + 2000 * pods, 'rollout');
    const problems: string[] = [];

    // (a) repeated ADDs for running pods, with their own sandbox ids
    const running = Stack.running(await stack.pods('app=app')).slice(0, Math.min(20, pods));
    const sandboxes = new Map(stack.nodeNames.flatMap((n) => listSandboxes(stack.stateDir, n)).map((r) => [r.podUid, r]));
    let repeated = 0;
    for (const p of running) {
      const sb = sandboxes.get(p.metadata!.uid!);
      if (!sb) {
        problems.push(`no sandbox record for ${p.metadata!.name}`);
        continue;
      }
      const ref = { name: p.metadata!.name!, uid: p.metadata!.uid! };
      const answers = [await stack.cniAdd(ref, sb.sandboxId, sb.node), await stack.cniAdd(ref, sb.sandboxId, sb.node), ...(await Promise.all([0, 1, 2].map(() => stack.cniAdd(ref, sb.sandboxId, sb.node))))];
      repeated += answers.length;
      for (const a of answers) {
        if (!a.ok) problems.push(`repeated ADD for ${ref.name}: ${a.msg}`);
        else if (a.ips.join() !== p.status!.podIP) problems.push(`repeated ADD for ${ref.name} returned ${a.ips.join()}, the pod has ${p.status!.podIP}`);
      }
    }
    figures.repeatedAddsOnRunningPods = repeated;

    // (b) concurrent first ADDs for bare pods
    const m = Math.max(5, Math.ceil(pods / 5));
    const manual: Array<{ name: string; uid: string; cid: string; ip?: string }> = [];
    for (let i = 0; i < m; i++) {
      const pod = await stack.createManualPod(`dup-${i}`);
      manual.push({ name: pod.metadata!.name!, uid: pod.metadata!.uid!, cid: randomBytes(32).toString('hex') });
    }
    await Promise.all(manual.map(async (x) => {
      const answers = await Promise.all([0, 1, 2, 3].map(() => stack.cniAdd(x, x.cid)));
      answers.push(await stack.cniAdd(x, x.cid));
      const ips = new Set(answers.flatMap((a) => (a.ok ? [a.ips.join()] : [])));
      const errors = answers.filter((a) => !a.ok);
      // A concurrent duplicate may be told to try again (the first holds the attachment); the
      // final sequential one must succeed, and every success must name the same address.
      if (!answers.at(-1)!.ok) problems.push(`last ADD for ${x.name} failed: ${(answers.at(-1) as { msg: string }).msg}`);
      if (ips.size !== 1) problems.push(`ADDs for ${x.name} returned ${ips.size} different answers: ${[...ips].join(' | ')}; errors: ${errors.map((e) => (e as { msg: string }).msg).join(' | ')}`);
      x.ip = [...ips][0];
      figures.concurrentAddErrors = Number(figures.concurrentAddErrors ?? 0) + errors.length;
    }));
    const records = await stack.records();
    for (const x of manual) {
      const mine = records.filter((r) => r.uid === x.uid);
      if (mine.length !== 1 || mine[0]!.ip !== x.ip) problems.push(`${x.name}: ${mine.length} records (${mine.map((r) => r.ip).join()}), ADD said ${x.ip}`);
    }
    figures.concurrentAddPods = manual.length;
    if (problems.length) throw new Error(`duplicate ADDs: ${problems.length} problems: ${problems.slice(0, 5).join('; ')}`);

    // Half released by DEL, half deleted without one (GC).
    say('deleting the bare pods (half with DEL)');
    for (const [i, x] of manual.entries()) {
      if (i % 2 === 0) await stack.cniDel(x, x.cid);
      await stack.core.deleteNamespacedPod({ name: x.name, namespace: stack.namespace, gracePeriodSeconds: 0 });
    }
    return { expectedRunning: pods };
  },
};
