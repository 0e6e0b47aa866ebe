// CPU seconds per component over one benchmark phase, from /proc (Linux): where a CPU-bound phase's
// time went. On 2 shared cores every phase is CPU-bound, so "ours is 2× slower" only becomes
// actionable once it says whose CPU: the plugin execs, the apiserver, the IPAM's own daemons.
//
// Components (nothing here is specific to one IPAM):
//   plugin execs      the simulator's reaped children (cutime + cstime): every CNI plugin exec
//   simulator         the node simulator itself
//   ipam daemons      other descendants of this process, by script/binary name (e.g. an operator,
//                     node agents a setup hook started), each its own line
//   kube-apiserver, etcd, kube-controller-manager, kube-scheduler   from the control plane's pid files
//   harness           this process
//   other             every other process of the machine (self time only): someone else's load
// A process that exits during the phase takes its CPU with it unless its parent reaps it (the
// simulator SIGKILLed by the recovery phase loses its own time, not its children's already reaped).
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

interface ProcCpu {
  ppid: number;
  /** utime + stime, seconds. */
  self: number;
  /** cutime + cstime (reaped children), seconds. */
  children: number;
  name: string;
}

export type CpuSnapshot = Map<number, ProcCpu>;

const TICK = 100; // USER_HZ on Linux

/** Every process's CPU now. Processes that vanish while being read are skipped. */
export function snapshotCpu(): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after "(comm)": state ppid ... utime(14) stime(15) cutime(16) cstime(17).
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
      out.set(Number(entry), { ppid: Number(f[1]), self: (Number(f[11]) + Number(f[12])) / TICK, children: (Number(f[13]) + Number(f[14])) / TICK, name: processName(cmd) });
    } catch {
      // Exited between readdir and read.
    }
  }
  return out;
}

/** A short name: the script a runtime runs (node x.ts → x.ts's dir/file), else the binary. */
function processName(cmd: string[]): string {
  // Not a module preloaded with --import/--require/-r: the script comes after those.
  const script = cmd.slice(1).find((a, i) => /\.(m?[jt]s|cjs)$/.test(a) && !a.startsWith('-') && !['--import', '--require', '-r'].includes(cmd[i] ?? ''));
  if (script) return script.split('/').slice(-3).join('/');
  return basename(cmd[0] ?? '?');
}

/** Control-plane pids from `<clusterDir>/run/<component>.pid` (hack/controlplane/up.sh writes them). */
export function controlPlanePids(clusterDir: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const component of ['kube-apiserver', 'etcd', 'kube-controller-manager', 'kube-scheduler']) {
    try {
      out.set(Number(readFileSync(join(clusterDir, 'run', `${component}.pid`), 'utf8').trim()), component);
    } catch {
      // Not running from that directory: its CPU shows under "other".
    }
  }
  return out;
}

export interface CpuRoles {
  /** This process (the harness). */
  self: number;
  /** The simulator's pids (the recovery phase restarts it: both). */
  simulators: readonly number[];
  controlPlane: Map<number, string>;
}

/** CPU seconds per component between two snapshots, rounded to 0.1 s. */
export function cpuByComponent(before: CpuSnapshot, after: CpuSnapshot, roles: CpuRoles): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (k: string, v: number) => (out[k] = (out[k] ?? 0) + v);
  const sims = new Set(roles.simulators);
  // Under a simulator: a plugin exec still running (counted once reaped, as the simulator's children);
  // under the harness otherwise: one of the IPAM's daemons.
  const lineage = (pid: number): 'simulator' | 'harness' | 'none' => {
    for (let p = after.get(pid)?.ppid, hops = 0; p !== undefined && p > 1 && hops < 64; p = after.get(p)?.ppid, hops++) {
      if (sims.has(p)) return 'simulator';
      if (p === roles.self) return 'harness';
    }
    return 'none';
  };
  for (const [pid, a] of after) {
    const b = before.get(pid);
    // Same pid and name: the same process (pids are recycled only after wrapping).
    const same = b !== undefined && b.name === a.name;
    const self = a.self - (same ? b.self : 0);
    const children = a.children - (same ? b.children : 0);
    if (sims.has(pid)) {
      add('plugin execs', children);
      add('simulator', self);
    } else if (roles.controlPlane.has(pid)) add(roles.controlPlane.get(pid)!, self + children);
    else if (pid === roles.self) add('harness', self);
    else {
      const from = lineage(pid);
      if (from === 'harness') add(`ipam daemon: ${a.name}`, self + children);
      else if (from === 'none') add('other', self);
    }
  }
  for (const k of Object.keys(out)) out[k] = Math.round(out[k]! * 10) / 10;
  return out;
}
