// 1. kill -9 the leader operator mid-rollout: a Deployment of N pods; when 15 % are Running (so
// most of the rollout runs through the takeover) the replica holding the Lease gets SIGKILL. The
// follower must take the Lease over once it expires (LEASE_DURATION_SECONDS 15, the Deployment's
// value), rebuild from the IPAMBlocks and finish the rollout. The killed replica stays down until
// then (its node died, or its container waits in CrashLoopBackOff), so the takeover is the follower's; afterwards it is started again with the same
// identity (the container restarted in its pod) and must join as a follower, not take the Lease back.
import { waitFor } from '../../integration/helpers/wait.js';
import type { ChaosScenario } from '../scenario.js';

export const leaderKill: ChaosScenario = {
  name: 'leader-kill',
  title: 'kill -9 the leader operator mid-rollout',
  defaultPods: 200,
  ciPods: 40,
  size: (pods) => ({ nodes: 4, poolSize: Math.ceil(pods * 1.1) }),
  async run({ stack, pods, figures, say }) {
    const t0 = Date.now();
    await stack.createDeployment('app', pods);
    const at = await stack.waitFraction('app=app', pods, 0.15, 60_000 + 2000 * pods);
    const leader = await stack.leaderIndex();
    if (leader < 0) throw new Error('no operator holds the Lease');
    const victim = stack.operators[leader]!;
    say('SIGKILL the leader', { operator: victim.name, runningAtKill: at });
    const tKill = Date.now();
    await victim.proc.kill();
    figures.runningAtKill = at;
    figures.killedLeader = victim.name;
    const takeover = waitFor('the follower to take the Lease over', async () => {
      const now = await stack.leaderIndex();
      return { ok: now >= 0 && now !== leader, value: now, detail: `holder index ${now}` };
    }, 90_000, 250).then((now) => {
      figures.leaseTakenOverAfterSec = (Date.now() - tKill) / 1000;
      return now;
    });
    takeover.catch(() => undefined);
    await stack.waitRunning('app=app', pods, 120_000 + 1500 * pods, 'after the leader was killed');
    figures.allRunningAfterKillSec = (Date.now() - tKill) / 1000;
    figures.rolloutSec = (Date.now() - t0) / 1000;
    const now = await takeover;
    figures.newLeader = stack.operators[now]?.name;
    await victim.proc.start();
    await new Promise((r) => setTimeout(r, 3000));
    if ((await stack.leaderIndex()) !== now) throw new Error('the restarted replica took the Lease back from the new leader');
    return { expectedRunning: pods };
  },
};
