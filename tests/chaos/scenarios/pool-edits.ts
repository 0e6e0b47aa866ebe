// 8. Users editing the pool while pods allocate from it: the pool starts with 70 % of the addresses
// a Deployment of N pods needs; once 15 % of the pods are Running (the rest allocating, soon waiting
// for addresses) a user adds addresses N*0.7+1 .. N*1.4 to spec.ips, a moment later excludes
// N*1.3+1 .. N*1.4 (spec.excludeIPs) and then removes N*1.2+1 .. N*1.4 from spec.ips again — three
// writes racing the allocations. The rollout must complete; every pod must hold an address that the
// pool had when it was allocated. Addresses recorded outside the final spec are counted (a pod that
// got one in the instant before the user's removal keeps it, as in Spiderpool without its webhook).
import type { ChaosScenario } from '../scenario.js';

export const poolEdits: ChaosScenario = {
  name: 'pool-edits',
  title: 'users add, exclude and remove pool addresses during a rollout',
  defaultPods: 100,
  ciPods: 30,
  size: (pods) => ({ nodes: 2, poolSize: Math.floor(pods * 0.7) }),
  async run({ stack, pods, figures, say }) {
    const first = Math.floor(pods * 0.7);
    const top = Math.floor(pods * 1.4);
    const excl = Math.floor(pods * 1.3);
    const keep = Math.floor(pods * 1.2);
    await stack.createDeployment('app', pods);
    const at = await stack.waitFraction('app=app', pods, 0.15, 60_000 + 2000 * pods);
    const t = Date.now();
    say('editing the pool', { runningAtEdit: at });
    await stack.applyPool({ ips: [stack.range(1, first), stack.range(first + 1, top)] });
    await new Promise((r) => setTimeout(r, 500));
    await stack.applyPool({ ips: [stack.range(1, first), stack.range(first + 1, top)], excludeIPs: [stack.range(excl + 1, top)] });
    await new Promise((r) => setTimeout(r, 500));
    await stack.applyPool({ ips: [stack.range(1, keep)], excludeIPs: [stack.range(excl + 1, top)] });
    figures.editsSec = (Date.now() - t) / 1000;
    figures.runningAtEdit = at;
    await stack.waitRunning('app=app', pods, 120_000 + 2000 * pods, 'after the pool edits');
    figures.allRunningAfterEditSec = (Date.now() - t) / 1000;
    const records = await stack.records();
    const n = (ip: string) => Number(ip.split('.')[3]) + 256 * (Number(ip.split('.')[2]) % 4);
    figures.recordsAboveKept = records.filter((r) => n(r.ip) > keep).length;
    figures.recordsInExcluded = records.filter((r) => n(r.ip) > excl).length;
    return { expectedRunning: pods };
  },
};
