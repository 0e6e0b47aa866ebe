// Scenario names of the seed benchmark (../../../../shared/BENCHMARK.md, docs/benchmark.md):
//   <D>x<R>-<v4|dual>[-2x]   D Deployments x R replicas, IPv4 or dual stack, IPs = pods (1:1) or 2x
//   smoke                     2x10-v4 on 2 nodes (a quick run of everything)
// --pods / --nodes override the size for quick runs (the shape is kept: 1xN stays one Deployment).
export interface Scenario {
  name: string;
  deployments: number;
  replicas: number;
  nodes: number;
  dual: boolean;
  /** Addresses per family = pods x ipFactor (1: IPs = pods, 2: IP sufficient). */
  ipFactor: number;
}

export const totalPods = (s: Scenario): number => s.deployments * s.replicas;
export const addressesPerFamily = (s: Scenario): number => totalPods(s) * s.ipFactor;

const NAME_RE = /^(\d+)x(\d+)-(v4|dual)(?:-(2x))?$/;

export function parseScenario(name: string, overrides: { pods?: number; nodes?: number } = {}): Scenario {
  let s: Scenario;
  if (name === 'smoke') s = { name, deployments: 2, replicas: 10, nodes: 2, dual: false, ipFactor: 1 };
  else {
    const m = NAME_RE.exec(name);
    if (!m) throw new Error(`--scenario ${JSON.stringify(name)}: expected smoke or <D>x<R>-<v4|dual>[-2x], e.g. 100x10-v4, 1x1000-dual-2x`);
    s = { name, deployments: Number(m[1]), replicas: Number(m[2]), nodes: 10, dual: m[3] === 'dual', ipFactor: m[4] ? 2 : 1 };
  }
  if (overrides.pods !== undefined) {
    if (s.deployments === 1) s.replicas = overrides.pods;
    else s.deployments = Math.max(1, Math.ceil(overrides.pods / s.replicas));
    s.name += `-pods${totalPods(s)}`;
  }
  if (overrides.nodes !== undefined) {
    s.nodes = overrides.nodes;
    s.name += `-nodes${s.nodes}`;
  }
  if (s.deployments < 1 || s.replicas < 1 || s.nodes < 1) throw new Error(`scenario ${s.name}: deployments, replicas and nodes must be >= 1`);
  if (s.nodes > 50) throw new Error(`--nodes ${s.nodes}: at most 50 (host-local node ranges are 198.18.200-249.0/24)`);
  return s;
}

/**
 * Per-node pod capacity for the scenario (the simulator's --pods, the same for every IPAM). With
 * IPs = pods the node-local baseline has ceil(pods/nodes) addresses per node; capping the node's pod
 * capacity at that number makes the scheduler fill every node exactly, otherwise host-local pods on a
 * node that got more than its share would never start. With 2x the default (250) is kept.
 */
export function nodePodCapacity(s: Scenario): number | undefined {
  return s.ipFactor === 1 ? Math.ceil(totalPods(s) / s.nodes) : undefined;
}

/** Addresses per node and family for node-local IPAMs: ceil(addresses / nodes). */
export const perNodeAddresses = (s: Scenario): number => Math.ceil(addressesPerFamily(s) / s.nodes);
