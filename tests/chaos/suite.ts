// The suite: its own control plane instance (cluster.ts), the shim built once, each scenario run
// `repeat` times in a row, results written after every run (results.json, results.md), and the
// cluster torn down at the end — also when aborted (abort()).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildShimInto } from '../integration/helpers/ipam-stack.js';
import { ChaosCluster } from './cluster.js';
import { markdown } from './report.js';
import { type RunResult, runOnce } from './runner.js';
import type { ChaosScenario } from './scenario.js';

export interface SuiteOptions {
  scenarios: ChaosScenario[];
  repeat: number;
  /** Pods per run; undefined = each scenario's default (ci: its CI size). */
  pods?: number;
  ci?: boolean;
  settleBoundMs: number;
  clusterDir: string;
  portBase: number;
  outDir: string;
  command: string;
  /** Leave the cluster running at the end (debugging). */
  keepCluster?: boolean;
  say: (msg: string, extra?: Record<string, unknown>) => void;
}

export interface Suite {
  done: Promise<RunResult[]>;
  abort(): void;
}

/** node-monitor-grace-period: how long a silent node stays Ready (default 40 s); see docs/reliability.md. */
export const KCM_EXTRA_ARGS = '--node-monitor-grace-period=20s';

export function runSuite(o: SuiteOptions): Suite {
  let abort!: (e: Error) => void;
  const aborted = new Promise<never>((_, reject) => (abort = reject));
  aborted.catch(() => undefined);
  let isAborted = false;
  const done = (async () => {
    mkdirSync(o.outDir, { recursive: true });
    const results: RunResult[] = [];
    const write = () => {
      writeFileSync(join(o.outDir, 'results.json'), JSON.stringify({ command: o.command, settleBoundSec: o.settleBoundMs / 1000, results }, null, 2));
      writeFileSync(join(o.outDir, 'results.md'), markdown(results, o.command, o.settleBoundMs / 1000));
    };
    const cluster = new ChaosCluster({ dir: o.clusterDir, portBase: o.portBase, kcmExtraArgs: KCM_EXTRA_ARGS, say: (m) => o.say(m) });
    try {
      const cniBin = join(o.outDir, 'cni-bin');
      o.say('building the shim');
      // Another build of ipam-plugin at the same moment (a test, a second suite) empties dist/ under
      // ours: retry a couple of times before giving up.
      for (let attempt = 1; ; attempt++) {
        try {
          rmSync(cniBin, { recursive: true, force: true });
          buildShimInto(cniBin);
          break;
        } catch (e) {
          if (attempt >= 3) throw e;
          o.say('shim build failed; retrying', { attempt, error: (e as Error).message.split('\n')[0] });
          await new Promise((r) => setTimeout(r, 5000 * attempt));
        }
      }
      o.say('starting the chaos control plane', { dir: o.clusterDir, apiserver: cluster.server });
      await Promise.race([cluster.start(), aborted]);
      let slot = 0;
      for (const sc of o.scenarios) {
        for (let run = 1; run <= o.repeat && !isAborted; run++) {
          const pods = o.pods ?? (o.ci ? sc.ciPods : sc.defaultPods);
          results.push(await runOnce(sc, { cluster, cniBin, outDir: o.outDir, pods, run, slot: slot++ % 60, settleBoundMs: o.settleBoundMs, aborted, say: o.say }));
          write();
        }
      }
      write();
      return results;
    } finally {
      if (!o.keepCluster) {
        o.say('stopping the chaos control plane');
        await cluster.stop().catch((e: Error) => o.say('cluster down failed', { error: e.message }));
      }
    }
  })();
  return {
    done,
    abort: () => {
      isAborted = true;
      abort(new Error('aborted (signal)'));
    },
  };
}
