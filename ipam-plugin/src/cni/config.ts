// The network configuration on stdin: the fields of the CNI spec we use, and our `ipam` section.
// Keys follow Spiderpool's IPAM config where it has one (log_file_path, log_level,
// default_ipv4_ippool, default_ipv6_ippool), so a Spiderpool CNI config only needs the new
// operator/TLS keys. Every error names the JSON path of the offending field.
import { hostname } from 'node:os';
import { CniCode, CniError } from './errors.js';
import { isSupported, SUPPORTED_VERSIONS, type CniVersion } from './version.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface IpamConfig {
  /**
   * The node-local agent's unix socket (`agent_socket`, ADR 0013): when set, the shim asks the agent,
   * which holds the operator connection, and `endpoint`/`tls` may be empty.
   */
  agentSocket: string | undefined;
  /** The operator's allocator service, "host:port" or "[v6]:port"; '' when only the agent is configured. */
  endpoint: string;
  tls: {
    caFile: string;
    certFile: string;
    keyFile: string;
    /** Name the server certificate must carry; defaults to the endpoint's host. */
    serverName: string;
  };
  /** Deadline of one RPC, connection set-up included. */
  timeoutMs: number;
  /** '' = log to stderr only. */
  logFile: string;
  logLevel: LogLevel;
  nodeName: string;
  defaultIPv4Pools: string[];
  defaultIPv6Pools: string[];
  cleanGateway: boolean | undefined;
}

export interface Attachment {
  containerId: string;
  ifname: string;
}

export interface NetConf {
  cniVersion: CniVersion;
  name: string;
  ipam: IpamConfig;
  /** Addresses (CIDR form) of prevResult.ips, undefined when the runtime sent no prevResult. */
  prevIPs: string[] | undefined;
  /** `cni.dev/valid-attachments` (GC), undefined when absent. */
  validAttachments: Attachment[] | undefined;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_LOG_FILE = '/var/log/spiderpool-ts/ipam.log';
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

type Json = Record<string, unknown>;

function bad(path: string, msg: string): CniError {
  return new CniError(CniCode.InvalidConfig, `${path}: ${msg}`);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optString(o: Json, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(`${path}.${key}`, `must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function reqString(o: Json, key: string, path: string): string {
  const v = optString(o, key, path);
  if (!v) throw bad(`${path}.${key}`, 'is required');
  return v;
}

function optStringList(o: Json, key: string, path: string): string[] {
  const v = o[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw bad(`${path}.${key}`, `must be an array of pool names, got ${JSON.stringify(v)}`);
  return v.map((item, i) => {
    if (typeof item !== 'string' || item === '') throw bad(`${path}.${key}[${i}]`, `must be a non-empty pool name, got ${JSON.stringify(item)}`);
    return item;
  });
}

/** "host:port" / "[v6]:port" → host (brackets removed), or an error naming the field. */
export function endpointHost(endpoint: string, path = 'ipam.operator_endpoint'): string {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]/\s]+)):(\d{1,5})$/.exec(endpoint);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535) throw bad(path, `${JSON.stringify(endpoint)} is not "host:port" (IPv6: "[addr]:port")`);
  return (m[1] ?? m[2]) as string;
}

function parseIpam(raw: unknown): IpamConfig {
  if (!isObject(raw)) throw bad('ipam', 'missing or not an object');
  const agentSocket = optString(raw, 'agent_socket', 'ipam');
  if (agentSocket !== undefined && !agentSocket.startsWith('/')) {
    throw bad('ipam.agent_socket', `must be an absolute path to spiderpool-ts-agent's unix socket (e.g. "/run/spiderpool-ts/agent.sock"), got ${JSON.stringify(agentSocket)}`);
  }
  // Through the agent, the operator's address and the node's TLS files are the agent's business.
  const direct = agentSocket === undefined;
  const str = (key: string) => (direct ? reqString(raw, key, 'ipam') : (optString(raw, key, 'ipam') ?? ''));
  const endpoint = str('operator_endpoint');
  const host = endpoint ? endpointHost(endpoint) : '';

  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (raw.timeout_ms !== undefined) {
    const t = raw.timeout_ms;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > 600_000) {
      throw bad('ipam.timeout_ms', `must be an integer number of milliseconds in 1..600000, got ${JSON.stringify(t)}`);
    }
    timeoutMs = t;
  }

  const level = (optString(raw, 'log_level', 'ipam') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw bad('ipam.log_level', `${JSON.stringify(raw.log_level)} is not one of ${LOG_LEVELS.join(', ')}`);
  }

  const clean = raw.cleangateway;
  if (clean !== undefined && typeof clean !== 'boolean') throw bad('ipam.cleangateway', `must be true or false, got ${JSON.stringify(clean)}`);

  return {
    agentSocket,
    endpoint,
    tls: {
      caFile: str('tls_ca_file'),
      certFile: str('tls_cert_file'),
      keyFile: str('tls_key_file'),
      serverName: optString(raw, 'tls_server_name', 'ipam') || host,
    },
    timeoutMs,
    logFile: optString(raw, 'log_file_path', 'ipam') ?? DEFAULT_LOG_FILE,
    logLevel: level as LogLevel,
    nodeName: optString(raw, 'node_name', 'ipam') || hostname(),
    defaultIPv4Pools: optStringList(raw, 'default_ipv4_ippool', 'ipam'),
    defaultIPv6Pools: optStringList(raw, 'default_ipv6_ippool', 'ipam'),
    cleanGateway: clean,
  };
}

/** prevResult.ips[].address, the only part of a previous result IPAM needs (same in every version). */
function parsePrevIPs(raw: unknown): string[] | undefined {
  if (raw === undefined) return undefined;
  if (!isObject(raw)) throw bad('prevResult', 'must be an object');
  const ips = raw.ips;
  if (ips === undefined) return [];
  if (!Array.isArray(ips)) throw bad('prevResult.ips', 'must be an array');
  return ips.map((ip, i) => {
    const address = isObject(ip) ? ip.address : undefined;
    if (typeof address !== 'string' || !address.includes('/')) {
      throw bad(`prevResult.ips[${i}].address`, `must be an address in CIDR form, got ${JSON.stringify(address)}`);
    }
    return address;
  });
}

function parseAttachments(raw: unknown): Attachment[] | undefined {
  const key = 'cni.dev/valid-attachments';
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw bad(key, 'must be an array of {"containerID", "ifname"}');
  return raw.map((a, i) => {
    if (!isObject(a) || typeof a.containerID !== 'string' || a.containerID === '' || typeof a.ifname !== 'string' || a.ifname === '') {
      throw bad(`${key}[${i}]`, `must be {"containerID": string, "ifname": string}, got ${JSON.stringify(a)}`);
    }
    return { containerId: a.containerID, ifname: a.ifname };
  });
}

/** Just the cniVersion, for VERSION and for error results (which must carry the config's version). */
export function peekVersion(stdin: string): string | undefined {
  try {
    const v: unknown = JSON.parse(stdin);
    return isObject(v) && typeof v.cniVersion === 'string' ? v.cniVersion : undefined;
  } catch {
    return undefined;
  }
}

export function parseNetConf(stdin: string): NetConf {
  if (stdin.trim() === '') throw new CniError(CniCode.DecodeFailure, 'stdin: the network configuration is empty');
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(CniCode.DecodeFailure, `stdin: the network configuration is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(raw)) throw new CniError(CniCode.DecodeFailure, 'stdin: the network configuration is not a JSON object');

  const version = raw.cniVersion;
  if (typeof version !== 'string' || version === '') throw bad('cniVersion', 'is required');
  if (!isSupported(version)) {
    throw new CniError(
      CniCode.IncompatibleVersion,
      `cniVersion: ${JSON.stringify(version)} is not supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`,
    );
  }
  const name = raw.name;
  if (typeof name !== 'string' || name === '') throw bad('name', 'is required (the network name)');

  return {
    cniVersion: version,
    name,
    ipam: parseIpam(raw.ipam),
    prevIPs: parsePrevIPs(raw.prevResult),
    validAttachments: parseAttachments(raw['cni.dev/valid-attachments']),
  };
}
