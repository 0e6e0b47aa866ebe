// One CNI invocation: validate env and config, ask the operator, answer in the config's CNI version.
// Pure of process I/O (main.ts does stdin/stdout/exit), so tests drive it in-process as well.
// No node:crypto: through the agent (ADR 0013) this process loads neither tls nor crypto, and the
// request id is only a correlation id for logs.
import { readFileSync } from 'node:fs';
import { ErrorReason, GrpcCode } from '../../operator/src/rpc/errors.js';
import { parseNetConf, peekVersion, type NetConf } from './cni/config.js';
import { parseCommand, parseEnv, type CniEnv } from './cni/env.js';
import { CniCode, CniError, errorJson } from './cni/errors.js';
import { formatResult, versionResult } from './cni/result.js';
import { isSupported, LATEST_VERSION, requireVersion, SUPPORTED_VERSIONS } from './cni/version.js';
import { LocalClient } from './local-client.js';
import { IpamClient, RpcError, type IpamMethod, type RequestOf, type ResponseOf } from './rpc-client.js';
import type { Logger } from './log.js';

/** The operator's IPAM service, directly (IpamClient) or through the node-local agent (LocalClient). */
interface IpamCaller {
  call<K extends IpamMethod>(method: K, request: RequestOf<K>): Promise<ResponseOf<K>>;
  close(): void;
}

/** A UUID-shaped correlation id from pid, clock and Math.random (not a secret, not crypto). */
function requestIdOf(): string {
  const hex = (process.pid.toString(16) + process.hrtime.bigint().toString(16) + Math.random().toString(16).slice(2) + Math.random().toString(16).slice(2))
    .padEnd(32, '0')
    .slice(-32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export interface Outcome {
  /** What goes to stdout: a result, an error JSON, or '' (DEL/CHECK/GC/STATUS success). */
  stdout: string;
  exitCode: number;
}

type Env = Record<string, string | undefined>;

// Codes a caller should retry: the operator is down, restarting, not (yet) the leader, or slow.
const RETRYABLE = new Set<number>([GrpcCode.UNAVAILABLE, GrpcCode.DEADLINE_EXCEEDED, GrpcCode.ABORTED, GrpcCode.CANCELLED]);

/** An operator error as a CNI error: retryable → 11 (the runtime retries), anything else → 999. */
export function cniErrorOf(err: RpcError, endpoint: string): CniError {
  const reason = err.detail?.reason;
  const details = `gRPC status ${err.code}: ${err.message}`;
  if (reason === ErrorReason.NotLeader) {
    const leader = err.detail?.metadata.leader;
    return new CniError(CniCode.TryAgainLater, `operator ${endpoint} is not the leader${leader ? ` (leader: ${leader})` : ''}; try again later`, details);
  }
  if (RETRYABLE.has(err.code)) {
    return new CniError(CniCode.TryAgainLater, `operator ${endpoint} unavailable; try again later: ${err.message}`, details);
  }
  const meta = err.detail ? Object.entries(err.detail.metadata).map(([k, v]) => `${k}=${v}`).join(', ') : '';
  const why = reason ? ` [${reason}${meta ? `: ${meta}` : ''}]` : '';
  return new CniError(CniCode.Other, `operator: ${err.message}${why}`, details);
}

function readTlsFile(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CniError(CniCode.InvalidConfig, `ipam.${field}: cannot read ${path}: ${(e as Error).message}`);
  }
}

function clientFor(conf: NetConf): IpamCaller {
  const { tls, endpoint, timeoutMs, agentSocket } = conf.ipam;
  if (agentSocket) return new LocalClient(agentSocket, timeoutMs);
  return new IpamClient({
    endpoint,
    ca: readTlsFile(tls.caFile, 'tls_ca_file'),
    cert: readTlsFile(tls.certFile, 'tls_cert_file'),
    key: readTlsFile(tls.keyFile, 'tls_key_file'),
    serverName: tls.serverName,
    timeoutMs,
  });
}

function sameAddresses(a: readonly string[], b: readonly string[]): boolean {
  const norm = (xs: readonly string[]) => [...xs].map((x) => x.toLowerCase()).sort().join(',');
  return norm(a) === norm(b);
}

/** How errors name the operator: its endpoint, or the agent that reaches it. */
function operatorLabel(conf: NetConf): string {
  const { agentSocket, endpoint } = conf.ipam;
  return agentSocket ? `${endpoint || '(the agent\'s)'} via agent ${agentSocket}` : endpoint;
}

async function execute(env: CniEnv, conf: NetConf, client: IpamCaller, log: Logger): Promise<string> {
  const requestId = requestIdOf();
  const node = conf.ipam.nodeName;
  const pod = { namespace: env.pod.namespace, name: env.pod.name, uid: env.pod.uid };
  log.with({ requestId, node });

  switch (env.command) {
    case 'ADD': {
      const res = await client.call('allocate', {
        containerId: env.containerId,
        netns: env.netns,
        ifname: env.ifname,
        pod,
        nodeName: node,
        defaultIpv4Ippool: conf.ipam.defaultIPv4Pools,
        defaultIpv6Ippool: conf.ipam.defaultIPv6Pools,
        cleanGateway: conf.ipam.cleanGateway,
        requestId,
        networkName: conf.name,
      });
      log.info('allocated', { ips: res.ips.map((ip) => `${ip.address} (${ip.pool})`) });
      return JSON.stringify(formatResult(conf.cniVersion, res));
    }
    case 'DEL': {
      try {
        const res = await client.call('release', {
          containerId: env.containerId,
          ifname: env.ifname,
          pod,
          nodeName: node,
          ips: conf.prevIPs ?? [],
          requestId,
          networkName: conf.name,
        });
        log.info(res.released.length ? 'released' : 'nothing to release', { released: res.released });
      } catch (e) {
        // DEL must succeed when the allocation (or the pod) is already gone.
        if (!(e instanceof RpcError && e.code === GrpcCode.NOT_FOUND)) throw e;
        log.info('already released', { reason: e.detail?.reason, message: e.message });
      }
      return '';
    }
    case 'CHECK': {
      requireVersion(conf.cniVersion, '0.4.0', 'CHECK');
      if (conf.prevIPs === undefined) throw new CniError(CniCode.InvalidConfig, 'prevResult: required for CHECK');
      const res = await client.call('check', { containerId: env.containerId, ifname: env.ifname, pod, nodeName: node, requestId });
      const held = res.ips.map((ip) => ip.address);
      if (!sameAddresses(held, conf.prevIPs)) {
        throw new CniError(CniCode.Other, `CHECK: prevResult has [${conf.prevIPs.join(', ')}] but the operator holds [${held.join(', ')}]`);
      }
      return '';
    }
    case 'GC': {
      requireVersion(conf.cniVersion, '1.1.0', 'GC');
      // A missing list must not read as "nothing is valid": that would release every address on the node.
      if (conf.validAttachments === undefined) throw new CniError(CniCode.InvalidConfig, 'cni.dev/valid-attachments: required for GC');
      const res = await client.call('gC', { nodeName: node, networkName: conf.name, validAttachments: conf.validAttachments, requestId });
      log.info('gc done', { released: res.released.map((a) => `${a.containerId}/${a.ifname}`) });
      return '';
    }
    case 'STATUS': {
      requireVersion(conf.cniVersion, '1.1.0', 'STATUS');
      try {
        const res = await client.call('status', { nodeName: node });
        if (!res.ready) throw new CniError(CniCode.NotAvailable, `operator ${operatorLabel(conf)} is not ready: ${res.message}`);
      } catch (e) {
        if (e instanceof RpcError) {
          const err = cniErrorOf(e, operatorLabel(conf));
          throw new CniError(CniCode.NotAvailable, err.message, err.details);
        }
        // The agent is not running: for STATUS that is "not available" (50), not "try again" (11).
        if (e instanceof CniError && e.code === CniCode.TryAgainLater) throw new CniError(CniCode.NotAvailable, e.message, e.details);
        throw e;
      }
      return '';
    }
    case 'VERSION':
      throw new Error('VERSION is answered before the network config is parsed');
  }
}

export async function run(envVars: Env, stdin: string, log: Logger): Promise<Outcome> {
  const peeked = peekVersion(stdin);
  let cniVersion = peeked !== undefined && isSupported(peeked) ? peeked : LATEST_VERSION;
  let client: IpamCaller | undefined;
  let endpoint = '';
  try {
    if (parseCommand(envVars) === 'VERSION') {
      return { stdout: JSON.stringify(versionResult(cniVersion, SUPPORTED_VERSIONS)), exitCode: 0 };
    }
    const conf = parseNetConf(stdin);
    cniVersion = conf.cniVersion;
    log.configure(conf.ipam.logLevel, conf.ipam.logFile);
    const env = parseEnv(envVars);
    log.with({ command: env.command, containerId: env.containerId, ifname: env.ifname, pod: `${env.pod.namespace}/${env.pod.name}` });
    endpoint = operatorLabel(conf);
    client = clientFor(conf);
    const stdout = await execute(env, conf, client, log);
    return { stdout, exitCode: 0 };
  } catch (e) {
    const err =
      e instanceof CniError ? e
      : e instanceof RpcError ? cniErrorOf(e, endpoint)
      : new CniError(CniCode.Other, `internal error: ${(e as Error).message}`);
    log.error(err.message, { code: err.code, details: err.details || undefined });
    return { stdout: JSON.stringify(errorJson(cniVersion, err)), exitCode: 1 };
  } finally {
    client?.close();
  }
}
