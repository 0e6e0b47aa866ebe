// What a chaos scenario is: how big its world is, what it does to it, and what it expects after.
import type { ChaosCluster } from './cluster.js';
import type { Stack } from './stack.js';

export interface ScenarioSize {
  /** Simulated nodes in the run's main simulator process. */
  nodes: number;
  /** Addresses in the run's pool. */
  poolSize: number;
  nodesimArgs?: string[];
}

export interface RunContext {
  stack: Stack;
  cluster: ChaosCluster;
  pods: number;
  /** Scenario figures for the report (times, counts). */
  figures: Record<string, unknown>;
  say: (msg: string, extra?: Record<string, unknown>) => void;
}

export interface ChaosScenario {
  name: string;
  /** One line for the table and --help. */
  title: string;
  /** Pods by default (`npm run chaos`) and in the CI-sized integration test. */
  defaultPods: number;
  ciPods: number;
  size(pods: number): ScenarioSize;
  /**
   * Sets up the load, strikes, and waits (bounded) for the workload to converge. Returns the number
   * of pods that must be Running when the invariants are checked.
   */
  run(ctx: RunContext): Promise<{ expectedRunning: number }>;
}

/** A run's time bound: set-up + scenario + settle, generous for a loaded 2-core machine. */
export const runBoundMs = (pods: number): number => (240 + 3 * pods) * 1000;
