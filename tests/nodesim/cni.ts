// CNI execution the way libcni (containerd/cri-o) does it: plugins of a conflist run in order for ADD,
// each getting the previous plugin's result as `prevResult`; DEL runs them in reverse order with the
// cached ADD result as `prevResult` (cniVersion >= 0.4.0 only, as libcni). Errors are the JSON the
// plugin prints on stdout with a non-zero exit (code 11 = try again later).
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

export type PluginConf = Record<string, unknown> & { type: string };

export interface NetworkConfigList {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

/** Accepts a conflist (`plugins: [...]`) or a single-plugin .conf, like libcni's loaders. */
export function parseNetworkConfig(raw: unknown): NetworkConfigList {
  if (typeof raw !== 'object' || raw === null) throw new Error('CNI config: not a JSON object');
  const o = raw as Record<string, unknown>;
  const cniVersion = typeof o.cniVersion === 'string' ? o.cniVersion : '';
  const name = typeof o.name === 'string' ? o.name : '';
  if (!SUPPORTED_VERSIONS.includes(cniVersion)) {
    throw new Error(`CNI config: unsupported cniVersion ${JSON.stringify(o.cniVersion)} (supported: ${SUPPORTED_VERSIONS.join(', ')})`);
  }
  if (!name) throw new Error('CNI config: missing "name"');
  let plugins: unknown[];
  if (Array.isArray(o.plugins)) {
    plugins = o.plugins;
  } else if (typeof o.type === 'string') {
    const { cniVersion: _v, name: _n, ...rest } = o;
    plugins = [rest];
  } else {
    throw new Error('CNI config: neither "plugins" (conflist) nor "type" (conf)');
  }
  if (plugins.length === 0) throw new Error('CNI config: empty plugin list');
  for (const [i, p] of plugins.entries()) {
    if (typeof p !== 'object' || p === null || typeof (p as { type?: unknown }).type !== 'string') {
      throw new Error(`CNI config: plugins[${i}] has no "type"`);
    }
  }
  return { cniVersion, name, plugins: plugins as PluginConf[] };
}

function versionAtLeast(v: string, min: string): boolean {
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

export interface CniRuntimeConf {
  containerId: string;
  /** Path of the pod netns; '' for a DEL whose netns is gone (allowed by the spec). */
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs, joined as K=V;K=V. */
  args: Array<[string, string]>;
  /** CNI_PATH directories. */
  cniPath: string[];
  /** Command prefix, e.g. ['ip', 'netns', 'exec', 'spts-node-sim-0'] to run inside the node netns. */
  execPrefix: string[];
  timeoutMs: number;
}

export class CniError extends Error {
  constructor(
    readonly plugin: string,
    readonly command: 'ADD' | 'DEL' | 'CHECK',
    readonly cniCode: number | undefined,
    readonly cniMsg: string,
    readonly details: string | undefined,
  ) {
    super(`plugin type="${plugin}" failed (${command.toLowerCase()}): ${cniMsg}${details ? `: ${details}` : ''}`);
    this.name = 'CniError';
  }
}

const binCache = new Map<string, string>();
export function findPlugin(type: string, cniPath: string[]): string {
  const key = `${cniPath.join(':')}|${type}`;
  const hit = binCache.get(key);
  if (hit) return hit;
  if (type.includes('/')) throw new Error(`invalid CNI plugin type ${JSON.stringify(type)}`);
  for (const dir of cniPath) {
    const p = join(dir, type);
    try {
      accessSync(p, constants.X_OK);
      binCache.set(key, p);
      return p;
    } catch {
      /* next */
    }
  }
  throw new CniError(type, 'ADD', undefined, `failed to find plugin "${type}" in path [${cniPath.join(' ')}]`, undefined);
}

/** Runs one plugin binary; resolves with the parsed stdout (undefined when empty, as for DEL). */
export function execPlugin(
  type: string,
  command: 'ADD' | 'DEL' | 'CHECK',
  rt: CniRuntimeConf,
  stdin: Record<string, unknown>,
): Promise<unknown> {
  let bin: string;
  try {
    bin = findPlugin(type, rt.cniPath);
  } catch (e) {
    return Promise.reject(e instanceof CniError ? new CniError(type, command, e.cniCode, e.cniMsg, undefined) : e);
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: command,
    CNI_CONTAINERID: rt.containerId,
    CNI_NETNS: rt.netns,
    CNI_IFNAME: rt.ifName,
    CNI_ARGS: rt.args.map(([k, v]) => `${k}=${v}`).join(';'),
    CNI_PATH: rt.cniPath.join(':'),
  };
  const argv = [...rt.execPrefix, bin];
  return new Promise((resolve, reject) => {
    // Own process group, so a timeout kills the plugin and whatever it started (`ip netns exec`,
    // delegated IPAM plugins) — those would otherwise keep our stdout pipe open.
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      const stderr = Buffer.concat(err).toString('utf8').trim();
      reject(new CniError(type, command, undefined, `timed out after ${rt.timeoutMs} ms`, stderr || undefined));
    }, rt.timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {
      /* plugin may exit before reading stdin; the exit code tells */
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new CniError(type, command, undefined, `exec failed: ${e.message}`, undefined));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8').trim();
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (timedOut) return; // already rejected
      if (code === 0) {
        if (!stdout) return resolve(undefined);
        try {
          resolve(JSON.parse(stdout));
        } catch {
          reject(new CniError(type, command, undefined, `invalid JSON result: ${stdout.slice(0, 200)}`, undefined));
        }
        return;
      }
      let parsed: { code?: unknown; msg?: unknown; details?: unknown } | undefined;
      try {
        parsed = stdout ? (JSON.parse(stdout) as typeof parsed) : undefined;
      } catch {
        parsed = undefined;
      }
      const msg =
        typeof parsed?.msg === 'string'
          ? parsed.msg
          : stdout || stderr || `exited with ${code === null ? `signal ${signal}` : `code ${code}`}`;
      reject(
        new CniError(
          type,
          command,
          typeof parsed?.code === 'number' ? parsed.code : undefined,
          msg,
          typeof parsed?.details === 'string' && parsed.details ? parsed.details : undefined,
        ),
      );
    });
    child.stdin.end(JSON.stringify(stdin));
  });
}

function pluginStdin(list: NetworkConfigList, plugin: PluginConf, prevResult: unknown): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  if (prevResult !== undefined) conf.prevResult = prevResult;
  return conf;
}

/** ADD for a whole conflist; returns the final result. */
export async function addNetworkList(list: NetworkConfigList, rt: CniRuntimeConf): Promise<unknown> {
  let prev: unknown = undefined;
  for (const plugin of list.plugins) {
    prev = await execPlugin(plugin.type, 'ADD', rt, pluginStdin(list, plugin, prev));
  }
  return prev;
}

/** DEL for a whole conflist, in reverse order, with the cached ADD result as prevResult (>= 0.4.0). */
export async function delNetworkList(list: NetworkConfigList, rt: CniRuntimeConf, cached: unknown): Promise<void> {
  const prev = versionAtLeast(list.cniVersion, '0.4.0') && cached !== undefined ? cached : undefined;
  for (const plugin of [...list.plugins].reverse()) {
    await execPlugin(plugin.type, 'DEL', rt, pluginStdin(list, plugin, prev));
  }
}

/** The plugin of the list that carries the `ipam` section, and its IPAM type. */
export function ipamPlugin(list: NetworkConfigList): { plugin: PluginConf; ipamType: string } {
  for (const plugin of list.plugins) {
    const ipam = plugin.ipam as { type?: unknown } | undefined;
    if (ipam && typeof ipam.type === 'string') return { plugin, ipamType: ipam.type };
  }
  throw new Error('CNI config: no plugin has an "ipam" section with a "type" (needed for --mode ipam-only)');
}

/** IPAM-only ADD: exec the IPAM plugin with the main plugin's config, as a main plugin delegates. */
export async function addIpamOnly(list: NetworkConfigList, rt: CniRuntimeConf): Promise<unknown> {
  const { plugin, ipamType } = ipamPlugin(list);
  return execPlugin(ipamType, 'ADD', rt, pluginStdin(list, plugin, undefined));
}

export async function delIpamOnly(list: NetworkConfigList, rt: CniRuntimeConf): Promise<void> {
  const { plugin, ipamType } = ipamPlugin(list);
  await execPlugin(ipamType, 'DEL', rt, pluginStdin(list, plugin, undefined));
}

/** Pod IPs from a CNI result: `ips[].address` (0.3.x/0.4.0/1.x) or ip4/ip6 (0.2.0), prefix stripped. */
export function resultIPs(result: unknown): string[] {
  if (typeof result !== 'object' || result === null) return [];
  const r = result as { ips?: Array<{ address?: unknown }>; ip4?: { ip?: unknown }; ip6?: { ip?: unknown } };
  const cidrs: string[] = [];
  if (Array.isArray(r.ips)) {
    for (const ip of r.ips) if (typeof ip?.address === 'string') cidrs.push(ip.address);
  } else {
    if (typeof r.ip4?.ip === 'string') cidrs.push(r.ip4.ip);
    if (typeof r.ip6?.ip === 'string') cidrs.push(r.ip6.ip);
  }
  return cidrs.map((c) => c.split('/')[0]!).filter((s) => s.length > 0);
}
