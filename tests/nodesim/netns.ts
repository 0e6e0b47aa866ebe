// Network namespaces of the simulated machines. Nothing here touches the host's root namespace
// networking: every link lives in `spts-switch` (one bridge = the L2 segment all nodes share) or in
// a node namespace `spts-node-<name>` (its `eth0` is the veth "uplink" to the switch) or in a pod
// namespace `spts-pod_<node>_<sandbox12>` (node names cannot contain '_', so the prefix is unambiguous).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';

export const NETNS_DIR = '/run/netns';
export const SWITCH_NS = 'spts-switch';
export const SWITCH_BRIDGE = 'br0';

export const nodeNetns = (node: string): string => `spts-node-${node}`;
export const podNetnsPrefix = (node: string): string => `spts-pod_${node}_`;
export const podNetns = (node: string, sandboxId: string): string => `${podNetnsPrefix(node)}${sandboxId.slice(0, 12)}`;
export const netnsPath = (name: string): string => `${NETNS_DIR}/${name}`;
/** True for every namespace this simulator creates (switch, nodes, pods). */
export const isOurNetns = (name: string): boolean => name === SWITCH_NS || name.startsWith('spts-node-') || name.startsWith('spts-pod_');

export function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      } else {
        resolve(String(stdout));
      }
    });
  });
}

export function listNetns(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}

export const netnsExists = (name: string): boolean => existsSync(netnsPath(name));

export async function addNetns(name: string): Promise<void> {
  if (netnsExists(name)) return;
  try {
    await run('ip', ['netns', 'add', name]);
  } catch (e) {
    if (!netnsExists(name)) throw e; // raced with another creator: fine
  }
}

export async function delNetns(name: string): Promise<void> {
  if (!netnsExists(name)) return;
  try {
    await run('ip', ['netns', 'del', name]);
  } catch (e) {
    if (netnsExists(name)) throw e;
  }
}

async function linkExists(ns: string, link: string): Promise<boolean> {
  try {
    await run('ip', ['-n', ns, 'link', 'show', 'dev', link]);
    return true;
  } catch {
    return false;
  }
}

/** The shared L2 "switch": a bridge inside its own namespace. Idempotent. */
export async function ensureSwitch(): Promise<void> {
  await addNetns(SWITCH_NS);
  if (!(await linkExists(SWITCH_NS, SWITCH_BRIDGE))) {
    try {
      await run('ip', ['-n', SWITCH_NS, 'link', 'add', SWITCH_BRIDGE, 'type', 'bridge']);
    } catch (e) {
      if (!(await linkExists(SWITCH_NS, SWITCH_BRIDGE))) throw e;
    }
  }
  await run('ip', ['-n', SWITCH_NS, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', SWITCH_NS, 'link', 'set', SWITCH_BRIDGE, 'up']);
}

/** veth name on the switch side: short (IFNAMSIZ 15) and unique per node name. */
export const switchPort = (node: string): string => `sn-${createHash('sha1').update(node).digest('hex').slice(0, 10)}`;

/**
 * A node's "machine": its namespace with `eth0` (veth to the switch) up and the node IP on it.
 * Idempotent: a power-on finds the namespace (the machine's NIC survives a reboot) and keeps it.
 */
export async function ensureNodeNetwork(node: string, nodeCidr: string): Promise<void> {
  const ns = nodeNetns(node);
  await addNetns(ns);
  if (!(await linkExists(ns, 'eth0'))) {
    const port = switchPort(node);
    if (await linkExists(SWITCH_NS, port)) await run('ip', ['-n', SWITCH_NS, 'link', 'del', port]);
    await run('ip', ['-n', SWITCH_NS, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await run('ip', ['-n', SWITCH_NS, 'link', 'set', port, 'master', SWITCH_BRIDGE, 'up']);
  }
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  const addrs = await run('ip', ['-n', ns, '-o', 'addr', 'show', 'dev', 'eth0']);
  if (!addrs.includes(` ${nodeCidr} `)) await run('ip', ['-n', ns, 'addr', 'add', nodeCidr, 'dev', 'eth0']);
}

/** Removes a node's namespace (its eth0/veth pair goes with it). */
export async function removeNodeNetwork(node: string): Promise<void> {
  await delNetns(nodeNetns(node));
}

/** Removes the switch when no node namespace is left attached to it. */
export async function removeSwitchIfUnused(): Promise<boolean> {
  if (listNetns().some((n) => n.startsWith('spts-node-'))) return false;
  await delNetns(SWITCH_NS);
  return true;
}

/** A pod sandbox namespace with its loopback up (containerd brings lo up itself, outside the chain). */
export async function createPodNetns(name: string): Promise<void> {
  await addNetns(name);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}
