// spiderpool-ts-agent's configuration: flags, each with an environment fallback (the DaemonSet sets
// env). Every error names the flag, its variable, and the fix.
import { isAbsolute } from 'node:path';
import { endpointHost } from '../cni/config.js';
import { serviceAddress } from '../install-steps.js';
import type { LogLevel } from '../cni/config.js';

export interface AgentConfig {
  socketPath: string;
  endpoint: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  serverName: string;
  timeoutMs: number;
  drainMs: number;
  logLevel: LogLevel;
}

export const DEFAULT_AGENT_SOCKET = '/run/spiderpool-ts/agent.sock';

interface Flag {
  name: string;
  env: string;
  help: string;
}

const FLAGS = {
  socket: { name: 'socket', env: 'AGENT_SOCKET', help: `unix socket the CNI shim connects to (default ${DEFAULT_AGENT_SOCKET})` },
  endpoint: {
    name: 'operator-endpoint',
    env: 'AGENT_OPERATOR_ENDPOINT',
    help: 'the operator\'s allocator service, "host:port" or "[v6]:port" (required, unless $OPERATOR_SERVICE_NAME names the Service whose kubelet variables give it, as for the installer)',
  },
  ca: { name: 'tls-ca-file', env: 'AGENT_TLS_CA_FILE', help: 'CA that signed the operator\'s server certificate (required)' },
  cert: { name: 'tls-cert-file', env: 'AGENT_TLS_CERT_FILE', help: 'this node\'s client certificate (required; re-read when it changes)' },
  key: { name: 'tls-key-file', env: 'AGENT_TLS_KEY_FILE', help: 'this node\'s private key (required; re-read when it changes)' },
  serverName: { name: 'tls-server-name', env: 'AGENT_TLS_SERVER_NAME', help: 'name the operator\'s certificate must carry (default: the endpoint\'s host)' },
  timeout: { name: 'timeout-ms', env: 'AGENT_TIMEOUT_MS', help: 'upper bound of one operator call, ms (default 10000)' },
  drain: { name: 'drain-ms', env: 'AGENT_DRAIN_MS', help: 'on SIGTERM, how long in-flight calls may finish, ms (default 5000)' },
  logLevel: { name: 'log-level', env: 'AGENT_LOG_LEVEL', help: 'debug, info, warn or error (default info)' },
} satisfies Record<string, Flag>;

export const USAGE = `usage: spiderpool-ts-agent [--flag value | --flag=value]...\n${Object.values(FLAGS)
  .map((f) => `  --${f.name.padEnd(18)} $${f.env.padEnd(24)} ${f.help}`)
  .join('\n')}`;

export class AgentConfigError extends Error {}

function bad(f: Flag, msg: string): AgentConfigError {
  return new AgentConfigError(`--${f.name} (or $${f.env}): ${msg}`);
}

function parseArgs(argv: readonly string[]): Map<string, string> {
  const known = new Set(Object.values(FLAGS).map((f) => f.name));
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!m || !known.has(m[1] as string)) throw new AgentConfigError(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new AgentConfigError(`--${m[1]}: needs a value\n${USAGE}`);
    out.set(m[1] as string, value);
  }
  return out;
}

function intIn(f: Flag, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw bad(f, `must be an integer in ${min}..${max}, got ${JSON.stringify(raw)}`);
  return n;
}

export function parseAgentConfig(argv: readonly string[], env: Record<string, string | undefined>): AgentConfig {
  const args = parseArgs(argv);
  const get = (f: Flag) => args.get(f.name) ?? env[f.env];
  const required = (f: Flag) => {
    const v = get(f);
    if (!v) throw bad(f, `is required (${f.help})`);
    return v;
  };
  const file = (f: Flag) => {
    const v = required(f);
    if (!isAbsolute(v)) throw bad(f, `must be an absolute path, got ${JSON.stringify(v)}`);
    return v;
  };

  const socketPath = get(FLAGS.socket) || DEFAULT_AGENT_SOCKET;
  if (!isAbsolute(socketPath)) throw bad(FLAGS.socket, `must be an absolute path, got ${JSON.stringify(socketPath)}`);
  // sun_path holds 107 bytes on Linux: a longer path fails at bind with an unhelpful EINVAL.
  if (Buffer.byteLength(socketPath) > 107) throw bad(FLAGS.socket, `${socketPath} is longer than the 107 bytes a unix socket path may have; choose a shorter path`);

  // In the DaemonSet: the Service's ClusterIP:grpc port from the kubelet's variables (IPv6 bracketed), like the installer.
  const service = env.OPERATOR_SERVICE_NAME?.trim();
  let endpoint = get(FLAGS.endpoint);
  if (!endpoint && service) {
    const r = serviceAddress(env, service, 'grpc');
    if (!r.ok) throw bad(FLAGS.endpoint, `not set, and the Service ${service}: ${r.error}`);
    endpoint = r.value;
  }
  if (!endpoint) endpoint = required(FLAGS.endpoint);
  let host: string;
  try {
    host = endpointHost(endpoint, `--${FLAGS.endpoint.name}`);
  } catch {
    throw bad(FLAGS.endpoint, `${JSON.stringify(endpoint)} is not "host:port" (IPv6: "[addr]:port")`);
  }
  const level = (get(FLAGS.logLevel) || 'info').toLowerCase();
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw bad(FLAGS.logLevel, `${JSON.stringify(level)} is not one of debug, info, warn, error`);

  return {
    socketPath,
    endpoint,
    caFile: file(FLAGS.ca),
    certFile: file(FLAGS.cert),
    keyFile: file(FLAGS.key),
    serverName: get(FLAGS.serverName) || host,
    timeoutMs: intIn(FLAGS.timeout, get(FLAGS.timeout), 10_000, 1, 600_000),
    drainMs: intIn(FLAGS.drain, get(FLAGS.drain), 5_000, 0, 600_000),
    logLevel: level as LogLevel,
  };
}
