// The CNI runtime's environment (CNI spec, "Parameters"), validated per command. Every error names
// the variable (and the CNI_ARGS key) so a misconfigured runtime is fixed from the message alone.
import { CniCode, CniError } from './errors.js';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS'] as const;
export type CniCommand = (typeof COMMANDS)[number];

export interface PodArgs {
  namespace: string;
  name: string;
  /** '' when the runtime did not send K8S_POD_UID (allowed for DEL/CHECK only). */
  uid: string;
  infraContainerId: string;
}

export interface CniEnv {
  command: CniCommand;
  containerId: string;
  /** '' when absent (a DEL after the sandbox's netns is gone, GC, STATUS, VERSION). */
  netns: string;
  ifname: string;
  path: string[];
  pod: PodArgs;
}

type Env = Record<string, string | undefined>;

// Which variables each command must have (CNI spec 1.1.0 "Parameters" and per-operation sections).
const REQUIRED: Record<CniCommand, readonly string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  GC: ['CNI_PATH'],
  STATUS: ['CNI_PATH'],
  VERSION: [],
};

// The pod identity we need in CNI_ARGS. ADD is keyed on the pod UID, so it needs all three. DEL
// needs none: it must not fail (and block sandbox removal) for want of CNI_ARGS; the operator
// matches a DEL by container id, interface and node.
const REQUIRED_POD_ARGS: Record<CniCommand, readonly string[]> = {
  ADD: ['K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'K8S_POD_UID'],
  CHECK: ['K8S_POD_NAMESPACE', 'K8S_POD_NAME'],
  DEL: [],
  GC: [],
  STATUS: [],
  VERSION: [],
};

const KNOWN_ARGS = new Set(['IgnoreUnknown', 'K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'K8S_POD_UID', 'K8S_POD_INFRA_CONTAINER_ID']);

// Spec: "alphanumeric, underscore (_), hyphen (-) or period (.), starting with an alphanumeric".
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function invalid(msg: string): CniError {
  return new CniError(CniCode.InvalidEnv, msg);
}

export function parseCommand(env: Env): CniCommand {
  const raw = env.CNI_COMMAND;
  if (raw === undefined || raw === '') throw invalid('CNI_COMMAND is not set (expected one of ' + COMMANDS.join(', ') + ')');
  if (!(COMMANDS as readonly string[]).includes(raw)) {
    throw invalid(`CNI_COMMAND ${JSON.stringify(raw)} is not one of ${COMMANDS.join(', ')}`);
  }
  return raw as CniCommand;
}

/** Linux interface names: 1-15 bytes, not "." or "..", no "/", ":" or whitespace (dev_valid_name). */
function checkIfname(ifname: string): void {
  if (Buffer.byteLength(ifname) > 15) throw invalid(`CNI_IFNAME ${JSON.stringify(ifname)} is longer than 15 bytes`);
  if (ifname === '.' || ifname === '..' || /[/:\s]/.test(ifname)) {
    throw invalid(`CNI_IFNAME ${JSON.stringify(ifname)} is not a valid interface name`);
  }
}

/** CNI_ARGS: "K=V;K=V". Unknown keys are an error unless IgnoreUnknown is true (as libcni's LoadArgs). */
export function parseCniArgs(raw: string): Map<string, string> {
  const args = new Map<string, string>();
  if (raw === '') return args;
  for (const [i, pair] of raw.split(';').entries()) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw invalid(`CNI_ARGS: item ${i} ${JSON.stringify(pair)} is not KEY=VALUE`);
    const key = pair.slice(0, eq);
    if (args.has(key)) throw invalid(`CNI_ARGS: ${key} is given twice`);
    args.set(key, pair.slice(eq + 1));
  }
  const ignoreUnknown = args.get('IgnoreUnknown');
  const lenient = ignoreUnknown !== undefined && /^(1|true)$/i.test(ignoreUnknown);
  if (ignoreUnknown !== undefined && !lenient && !/^(0|false)$/i.test(ignoreUnknown)) {
    throw invalid(`CNI_ARGS: IgnoreUnknown ${JSON.stringify(ignoreUnknown)} is not a boolean (1, 0, true, false)`);
  }
  if (!lenient) {
    for (const key of args.keys()) {
      if (!KNOWN_ARGS.has(key)) throw invalid(`CNI_ARGS: unknown key ${key} (set IgnoreUnknown=1 to allow it)`);
    }
  }
  return args;
}

export function parseEnv(env: Env): CniEnv {
  const command = parseCommand(env);
  for (const name of REQUIRED[command]) {
    if (!env[name]) throw invalid(`${name} is not set (required for ${command})`);
  }
  const containerId = env.CNI_CONTAINERID ?? '';
  if (containerId !== '' && !CONTAINER_ID.test(containerId)) {
    throw invalid(`CNI_CONTAINERID ${JSON.stringify(containerId)} must be alphanumerics, "_", "-" or ".", starting with an alphanumeric`);
  }
  const ifname = env.CNI_IFNAME ?? '';
  if (ifname !== '') checkIfname(ifname);

  const args = parseCniArgs(env.CNI_ARGS ?? '');
  for (const key of REQUIRED_POD_ARGS[command]) {
    if (!args.get(key)) throw invalid(`CNI_ARGS: ${key} is missing or empty (required for ${command})`);
  }
  return {
    command,
    containerId,
    netns: env.CNI_NETNS ?? '',
    ifname,
    path: (env.CNI_PATH ?? '').split(':').filter((p) => p !== ''),
    pod: {
      namespace: args.get('K8S_POD_NAMESPACE') ?? '',
      name: args.get('K8S_POD_NAME') ?? '',
      uid: args.get('K8S_POD_UID') ?? '',
      infraContainerId: args.get('K8S_POD_INFRA_CONTAINER_ID') ?? '',
    },
  };
}
