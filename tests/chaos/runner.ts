// One run of one scenario: a fresh Stack (namespace, pool, two operators, simulated nodes), the
// scenario, then the invariants polled until they hold (the settle time, bounded), then teardown.
// The whole run is bounded too (runBoundMs); on timeout or abort the teardown still runs.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ChaosCluster } from './cluster.js';
import { type InvariantReport, settle } from './invariants.js';
import { type ChaosScenario, runBoundMs } from './scenario.js';
import { Stack } from './stack.js';

export interface RunResult {
  scenario: string;
  run: number;
  pods: number;
  ok: boolean;
  error?: string;
  startedAt: string;
  setupSec: number | null;
  scenarioSec: number | null;
  /** From the end of the scenario's actions to the invariants holding (null: not reached). */
  settleSec: number | null;
  settleBoundSec: number;
  invariants: InvariantReport | null;
  figures: Record<string, unknown>;
  workDir: string;
}

export interface RunOptions {
  cluster: ChaosCluster;
  cniBin: string;
  outDir: string;
  pods: number;
  run: number;
  /** Pool slot 0..59 (distinct per run in a suite). */
  slot: number;
  settleBoundMs: number;
  /** Rejects when the suite is aborted (signal). */
  aborted: Promise<never>;
  say: (msg: string, extra?: Record<string, unknown>) => void;
}

export async function runOnce(sc: ChaosScenario, o: RunOptions): Promise<RunResult> {
  const id = `${sc.name.replace(/[^a-z]/g, '').slice(0, 10)}${o.run}-${Math.random().toString(36).slice(2, 6)}`;
  const workDir = join(o.outDir, `${sc.name}-${o.run}`);
  mkdirSync(workDir, { recursive: true });
  const size = sc.size(o.pods);
  const say = (msg: string, extra: Record<string, unknown> = {}) => o.say(`[${sc.name} #${o.run}] ${msg}`, extra);
  const r: RunResult = { scenario: sc.name, run: o.run, pods: o.pods, ok: false, startedAt: new Date().toISOString(), setupSec: null, scenarioSec: null, settleSec: null, settleBoundSec: o.settleBoundMs / 1000, invariants: null, figures: {}, workDir };
  const stack = new Stack({ cluster: o.cluster, id, slot: o.slot, workDir, cniBin: o.cniBin, nodes: size.nodes, poolSize: size.poolSize, ...(size.nodesimArgs ? { nodesimArgs: size.nodesimArgs } : {}), say });
  const bound = runBoundMs(o.pods);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`run exceeded its bound of ${bound / 1000} s`)), bound);
  });
  const body = async () => {
    let t = Date.now();
    say('setting up', { nodes: size.nodes, poolSize: size.poolSize, pods: o.pods });
    await stack.up();
    r.setupSec = (Date.now() - t) / 1000;
    t = Date.now();
    const { expectedRunning } = await sc.run({ stack, cluster: o.cluster, pods: o.pods, figures: r.figures, say });
    r.scenarioSec = (Date.now() - t) / 1000;
    say('settling', { boundSec: o.settleBoundMs / 1000 });
    const s = await settle(stack, o.settleBoundMs, expectedRunning);
    r.invariants = s.report;
    if (s.report.ok) r.settleSec = s.seconds;
    else throw new Error(`invariants do not hold ${Math.round(s.seconds)} s after the scenario: ${JSON.stringify({ ...s.report, examples: undefined })}; ${s.report.examples.join('; ')}`);
    r.ok = true;
  };
  const running = body();
  running.catch(() => undefined);
  try {
    await Promise.race([running, timeout, o.aborted]);
  } catch (e) {
    r.error = (e as Error).message;
  } finally {
    clearTimeout(timer);
    const sum = await stack.simSummary().catch(() => undefined);
    if (sum) r.figures.simulator = { addFailures: sum.addFailures, delFailures: sum.delFailures, syncFailures: sum.syncFailures, podsSetUp: sum.podsSetUp };
    say('tearing down');
    await stack.down().catch((e: Error) => say('teardown failed', { error: e.message }));
    if (r.ok) rmSync(stack.stateDir, { recursive: true, force: true });
  }
  say(r.ok ? `PASSED (settled in ${r.settleSec} s)` : `FAILED: ${r.error}`, r.figures);
  return r;
}
