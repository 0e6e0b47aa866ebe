// Command-line options and the per-node CNI config template.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { NetworkConfigList } from './cni.js';
import { parseNetworkConfig } from './cni.js';
import type { Level } from './log.js';
import type { Mode } from './runtime.js';

export const USAGE = `Usage: npm run nodesim -- [run] [options]
       npm run nodesim -- cleanup [--state-dir DIR] [--nodes a,b] [--purge-state]
       npm run nodesim -- sandboxes [--state-dir DIR]

Simulated Kubernetes nodes: Node + Lease heartbeats, pods bound to them get a network namespace and
the real CNI chain (or only its IPAM plugin), then are reported Running. SIGUSR1 prints a JSON
summary on stdout (SIGUSR2: and resets the counters); SIGTERM/SIGINT stop cleanly (no CNI DEL: pods keep their sandboxes); SIGKILL is a
power-off. Starting again on the same --state-dir is a power-on.

run options:
  --kubeconfig PATH       default $KUBECONFIG
  --nodes a,b[=IDX],...   node names (NODE_INDEX = "=IDX", else the name's trailing number, else position)
  --count N --prefix P    N nodes P-0..P-(N-1) (prefix default "sim")
  --mode netns|ipam-only  default netns; ipam-only execs only the config's ipam.type, no netns
  --cni-config FILE       CNI conf/conflist template (required); placeholders \${NODE_NAME},
                          \${NODE_INDEX}, \${NODE_IP}, \${NODE_STATE_DIR}, \${STATE_DIR}
  --cni-path DIRS         colon-separated plugin dirs (default /usr/lib/cni)
  --state-dir DIR         sandbox records + per-node dirs, kept across power cycles
                          (default /var/tmp/spts-nodesim)
  --workers N             concurrent pod workers per node (default 16)
  --cni-timeout SEC       per plugin exec (default 60)
  --heartbeat SEC         Lease renew + node status period (default 10)
  --lease-duration SEC    Lease leaseDurationSeconds (default 40)
  --max-grace SEC         cap on a deleted pod's grace period (default 1)
  --retry-base MS         first retry delay of a failed pod sync (default 1000, doubles)
  --retry-max MS          retry delay cap (default 30000)
  --cpu Q --memory Q --pods N   capacity = allocatable (default 16, 64Gi, 250)
  --label K=V             extra node label (repeatable)
  --taint K[=V]:EFFECT    taint set when the Node is created (repeatable; like kubelet
                          --register-with-taints), e.g. to keep other workloads off test nodes
  --no-release-dead-sandboxes   on power-on, forget sandboxes that died without CNI DEL
                          (default: DEL them with their old container id, as kubelet+containerd do)
  --fail-del-percent P    fault injection: a deterministic P % of CNI DEL execs (every 100/P-th per
                          node) return a CNI error without running the plugin (default 0)
  --fail-del-mode retry|lose|mixed   what the runtime does with an injected DEL failure: retry it
                          (kubelet retries StopPodSandbox), lose it (the sandbox is dropped as if the
                          DEL had happened: a DEL that never reached the IPAM), or alternate (default retry)
  --summary-file PATH     also write the exit summary there
  --log-level debug|info|warn|error
`;

export interface NodeDef {
  name: string;
  index: number;
  ip: string;
}

export interface RunOptions {
  kubeconfig: string;
  nodes: NodeDef[];
  mode: Mode;
  cniConfigTemplate: string;
  cniConfigFile: string;
  cniPath: string[];
  stateDir: string;
  workers: number;
  cniTimeoutMs: number;
  heartbeatMs: number;
  leaseDurationSeconds: number;
  maxGraceMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  cpu: string;
  memory: string;
  pods: number;
  labels: Record<string, string>;
  taints: Array<{ key: string; value?: string; effect: string }>;
  releaseDeadSandboxes: boolean;
  delFaults: DelFaults;
  summaryFile: string | undefined;
  logLevel: Level;
}

/** Fault injection on CNI DEL (the chaos suite, tests/chaos): percent 0 = off. */
export interface DelFaults {
  percent: number;
  mode: 'retry' | 'lose' | 'mixed';
}

export type Command =
  | { cmd: 'run'; opts: RunOptions }
  | { cmd: 'cleanup'; stateDir: string; nodes: string[] | undefined; purgeState: boolean }
  | { cmd: 'sandboxes'; stateDir: string }
  | { cmd: 'help' };

const NODE_NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** 198.19.0.1, 198.19.0.2, ... (benchmark range), one per node index. */
export function nodeIPFor(index: number): string {
  return `198.19.${Math.floor(index / 254) % 256}.${(index % 254) + 1}`;
}

export function parseNodes(list: string | undefined, count: number | undefined, prefix: string): NodeDef[] {
  let specs: Array<{ name: string; index?: number }>;
  if (list) {
    specs = list
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const [name, idx] = s.split('=');
        return idx === undefined ? { name: name! } : { name: name!, index: Number(idx) };
      });
  } else if (count !== undefined) {
    specs = Array.from({ length: count }, (_, i) => ({ name: `${prefix}-${i}`, index: i }));
  } else {
    throw new Error('give --nodes or --count');
  }
  const out: NodeDef[] = specs.map((s, pos) => {
    if (!NODE_NAME_RE.test(s.name) || s.name.length > 63) throw new Error(`invalid node name ${JSON.stringify(s.name)}`);
    const trailing = /(\d+)$/.exec(s.name)?.[1];
    const index = s.index ?? (trailing !== undefined ? Number(trailing) : pos);
    if (!Number.isInteger(index) || index < 0) throw new Error(`invalid node index for ${s.name}`);
    return { name: s.name, index, ip: nodeIPFor(index) };
  });
  const names = new Set(out.map((n) => n.name));
  const idx = new Set(out.map((n) => n.index));
  if (names.size !== out.length) throw new Error('duplicate node names');
  if (idx.size !== out.length) throw new Error('duplicate node indexes (give NAME=IDX)');
  return out;
}

export function renderTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\$\{([A-Z_]+)\}/g, (m, k: string) => {
    const v = vars[k];
    if (v === undefined) throw new Error(`CNI config template: unknown placeholder ${m}`);
    return v;
  });
}

export function renderNetwork(template: string, vars: Record<string, string>): NetworkConfigList {
  const text = renderTemplate(template, vars);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`CNI config template is not JSON after rendering: ${(e as Error).message}`);
  }
  return parseNetworkConfig(raw);
}

function num(v: string | undefined, def: number, name: string): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a non-negative number: ${v}`);
  return n;
}

export function parseCommand(argv: string[]): Command {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      kubeconfig: { type: 'string' },
      nodes: { type: 'string' },
      count: { type: 'string' },
      prefix: { type: 'string', default: 'sim' },
      mode: { type: 'string', default: 'netns' },
      'cni-config': { type: 'string' },
      'cni-path': { type: 'string', default: '/usr/lib/cni' },
      'state-dir': { type: 'string', default: '/var/tmp/spts-nodesim' },
      workers: { type: 'string' },
      'cni-timeout': { type: 'string' },
      heartbeat: { type: 'string' },
      'lease-duration': { type: 'string' },
      'max-grace': { type: 'string' },
      'retry-base': { type: 'string' },
      'retry-max': { type: 'string' },
      cpu: { type: 'string', default: '16' },
      memory: { type: 'string', default: '64Gi' },
      pods: { type: 'string' },
      label: { type: 'string', multiple: true },
      taint: { type: 'string', multiple: true },
      'no-release-dead-sandboxes': { type: 'boolean' },
      'summary-file': { type: 'string' },
      'fail-del-percent': { type: 'string' },
      'fail-del-mode': { type: 'string', default: 'retry' },
      'log-level': { type: 'string', default: 'info' },
      'purge-state': { type: 'boolean' },
    },
  });
  if (values.help) return { cmd: 'help' };
  const cmd = positionals[0] ?? 'run';
  const stateDir = values['state-dir']!;
  if (cmd === 'cleanup') {
    return { cmd, stateDir, nodes: values.nodes?.split(',').map((s) => s.split('=')[0]!.trim()).filter(Boolean), purgeState: !!values['purge-state'] };
  }
  if (cmd === 'sandboxes') return { cmd, stateDir };
  if (cmd !== 'run') throw new Error(`unknown command ${cmd}`);

  const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG;
  if (!kubeconfig) throw new Error('no kubeconfig: give --kubeconfig or set KUBECONFIG');
  const mode = values.mode;
  if (mode !== 'netns' && mode !== 'ipam-only') throw new Error(`--mode: netns or ipam-only, not ${mode}`);
  const cniConfigFile = values['cni-config'];
  if (!cniConfigFile) throw new Error('--cni-config FILE is required');
  const logLevel = values['log-level'] as Level;
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new Error(`--log-level: ${logLevel}`);
  const labels: Record<string, string> = {};
  for (const l of values.label ?? []) {
    const i = l.indexOf('=');
    if (i <= 0) throw new Error(`--label K=V, not ${l}`);
    labels[l.slice(0, i)] = l.slice(i + 1);
  }
  const taints = (values.taint ?? []).map((t) => {
    const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(t);
    if (!m) throw new Error(`--taint K[=V]:NoSchedule|PreferNoSchedule|NoExecute, not ${t}`);
    return m[2] === undefined ? { key: m[1]!, effect: m[3]! } : { key: m[1]!, value: m[2], effect: m[3]! };
  });
  const count = values.count === undefined ? undefined : num(values.count, 0, 'count');
  const pods = num(values.pods, 250, 'pods');
  const failDelPercent = num(values['fail-del-percent'], 0, 'fail-del-percent');
  if (failDelPercent > 100) throw new Error(`--fail-del-percent: 0..100, not ${failDelPercent}`);
  const failDelMode = values['fail-del-mode'];
  if (failDelMode !== 'retry' && failDelMode !== 'lose' && failDelMode !== 'mixed') throw new Error(`--fail-del-mode: retry, lose or mixed, not ${failDelMode}`);
  return {
    cmd: 'run',
    opts: {
      kubeconfig,
      nodes: parseNodes(values.nodes, count, values.prefix!),
      mode,
      cniConfigFile,
      cniConfigTemplate: readFileSync(cniConfigFile, 'utf8'),
      cniPath: values['cni-path']!.split(':').filter(Boolean),
      stateDir,
      workers: Math.max(1, Math.floor(num(values.workers, 16, 'workers'))),
      cniTimeoutMs: num(values['cni-timeout'], 60, 'cni-timeout') * 1000,
      heartbeatMs: num(values.heartbeat, 10, 'heartbeat') * 1000,
      leaseDurationSeconds: Math.floor(num(values['lease-duration'], 40, 'lease-duration')),
      maxGraceMs: num(values['max-grace'], 1, 'max-grace') * 1000,
      retryBaseMs: num(values['retry-base'], 1000, 'retry-base'),
      retryMaxMs: num(values['retry-max'], 30000, 'retry-max'),
      cpu: values.cpu!,
      memory: values.memory!,
      pods,
      labels,
      taints,
      releaseDeadSandboxes: !values['no-release-dead-sandboxes'],
      delFaults: { percent: failDelPercent, mode: failDelMode },
      summaryFile: values['summary-file'],
      logLevel,
    },
  };
}
