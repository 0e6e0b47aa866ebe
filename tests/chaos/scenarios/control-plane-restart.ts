// 2./3. Restart the kube-apiserver / etcd during allocation: a Deployment of N pods; when 15 % are
// Running the component is stopped (apiserver: SIGTERM, a rolling restart; etcd: SIGKILL, a crash),
// kept down 3 s, and started again on the same data with the same command line
// (hack/controlplane/restart-component.sh). Operators, simulated kubelets and the control plane's
// own controllers all lose their watches and requests in flight; the rollout must complete. An
// operator process that exits meanwhile is started again (as its Deployment would) and counted.
import type { Component } from '../cluster.js';
import type { ChaosScenario, RunContext } from '../scenario.js';

function restartDuring(component: Component, kill: boolean): ChaosScenario['run'] {
  return async ({ stack, cluster, pods, figures, say }: RunContext) => {
    await stack.createDeployment('app', pods);
    const at = await stack.waitFraction('app=app', pods, 0.15, 60_000 + 2000 * pods);
    say(`restarting ${component}`, { runningAtRestart: at });
    const t = Date.now();
    await cluster.restart(component, { kill, downSeconds: 3 });
    figures.runningAtRestart = at;
    figures.componentBackAfterSec = (Date.now() - t) / 1000;
    let operatorRestarts = 0;
    const deadline = Date.now() + 120_000 + 1500 * pods;
    // Wait for the rollout; restart an operator that died meanwhile (a Deployment would).
    for (;;) {
      for (const op of stack.operators) {
        if (!op.proc.isRunning()) {
          operatorRestarts++;
          say('operator exited; starting it again', { operator: op.name });
          await op.proc.start().catch((e: Error) => say('operator restart failed', { error: e.message }));
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`rollout not complete ${Math.round((Date.now() - t) / 1000)} s after the ${component} restart`);
      try {
        await stack.waitRunning('app=app', pods, Math.min(left, 10_000), `after the ${component} restart`);
        break;
      } catch {
        /* not yet: check the operators again */
      }
    }
    figures.allRunningAfterRestartSec = (Date.now() - t) / 1000;
    figures.operatorRestarts = operatorRestarts;
    return { expectedRunning: pods };
  };
}

export const apiserverRestart: ChaosScenario = {
  name: 'apiserver-restart',
  title: 'restart the kube-apiserver mid-rollout',
  defaultPods: 100,
  ciPods: 30,
  size: (pods) => ({ nodes: 2, poolSize: Math.ceil(pods * 1.1) }),
  run: restartDuring('kube-apiserver', false),
};

export const etcdRestart: ChaosScenario = {
  name: 'etcd-restart',
  title: 'kill -9 and restart etcd during allocation',
  defaultPods: 100,
  ciPods: 30,
  size: (pods) => ({ nodes: 2, poolSize: Math.ceil(pods * 1.1) }),
  run: restartDuring('etcd', true),
};
