// What the harness knows about an IPAM under test: a CNI config template for the simulated nodes (the
// same placeholders as nodesim's --cni-config), an optional setup hook (create pools, start a
// controller), and optionally how to read the addresses it holds (for the leak count). Nothing else in
// the harness is specific to one implementation.
import type { Scenario } from './scenario.js';

export interface BenchNode {
  name: string;
  /** NODE_INDEX in the CNI template (200 + position). */
  index: number;
}

export interface IpamContext {
  scenario: Scenario;
  /** Scratch dir of this IPAM's run (configs, certificates, logs). */
  workDir: string;
  /** nodesim --state-dir (per-node dirs under nodes/<node>/). */
  stateDir: string;
  kubeconfig: string;
  namespace: string;
  /** Short unique id of this run (for cluster-scoped names). */
  run: string;
  nodes: BenchNode[];
  say: (msg: string, extra?: Record<string, unknown>) => void;
}

export interface PreparedIpam {
  /** nodesim --cni-config. */
  conflist: string;
  /** nodesim --cni-path. */
  cniPath: string;
  /** Annotations on every Deployment's pod template (e.g. which pool to use). */
  podAnnotations: Record<string, string>;
  /** Addresses the IPAM holds now (all families); undefined = cannot tell (leaks reported as null). */
  allocated?: () => Promise<string[]>;
  /** Extra correctness findings after a phase settles (e.g. an invariant checker); 0 when none. */
  findings?: () => Promise<{ count: number; kinds: Record<string, number> }>;
  /** Undo the setup hook (stop processes, remove cluster objects). */
  teardown: () => Promise<void>;
}

export interface BenchIpam {
  name: string;
  prepare(ctx: IpamContext): Promise<PreparedIpam>;
}

/** a.b.c.d + n, IPv4. */
export function v4Add(base: string, n: number): string {
  const v = base.split('.').reduce((a, o) => a * 256 + Number(o), 0) + n;
  return [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');
}
