// The runtime's persistent sandbox metadata (what containerd keeps under /var/lib/containerd): one
// JSON file per sandbox under <stateDir>/nodes/<node>/sandboxes/. It survives a power-off, so a
// powered-on node knows which sandboxes died with it and can release their network (CNI DEL with
// the old container id), and tests can map a pod to its namespace the way `crictl pods` would.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SandboxRecord {
  /** 64 hex chars; CNI_CONTAINERID and K8S_POD_INFRA_CONTAINER_ID. */
  sandboxId: string;
  node: string;
  podUid: string;
  namespace: string;
  name: string;
  mode: 'netns' | 'ipam-only' | 'host-network';
  /** netns name ('' when the mode has none). */
  netns: string;
  /** CNI_NETNS used for ADD. */
  netnsPath: string;
  ifName: string;
  cniArgs: Array<[string, string]>;
  /** Cached CNI result (prevResult for DEL), absent until ADD succeeded. */
  result?: unknown;
  ips: string[];
  /** container name -> container id (64 hex), fresh per sandbox. */
  containers: Record<string, string>;
  createdAt: string;
  /** Boot id of the simulator process that created it. */
  bootId: string;
}

export const nodeStateDir = (stateDir: string, node: string): string => join(stateDir, 'nodes', node);
const sandboxDir = (stateDir: string, node: string): string => join(nodeStateDir(stateDir, node), 'sandboxes');

export function saveSandbox(stateDir: string, rec: SandboxRecord): void {
  const dir = sandboxDir(stateDir, rec.node);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${rec.sandboxId}.json`);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(rec));
  renameSync(tmp, file);
}

export function removeSandbox(stateDir: string, rec: Pick<SandboxRecord, 'node' | 'sandboxId'>): void {
  rmSync(join(sandboxDir(stateDir, rec.node), `${rec.sandboxId}.json`), { force: true });
}

export function listSandboxes(stateDir: string, node: string): SandboxRecord[] {
  const dir = sandboxDir(stateDir, node);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: SandboxRecord[] = [];
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(readFileSync(join(dir, n), 'utf8')) as SandboxRecord);
    } catch {
      /* half-written by a killed process: the .tmp rename never happened, so this is not reached */
    }
  }
  return out;
}

/** All sandboxes of all nodes in a state dir (for tests and `nodesim sandboxes`). */
export function listAllSandboxes(stateDir: string): SandboxRecord[] {
  let nodes: string[];
  try {
    nodes = readdirSync(join(stateDir, 'nodes'));
  } catch {
    return [];
  }
  return nodes.flatMap((n) => listSandboxes(stateDir, n));
}
