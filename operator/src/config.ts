// The operator's configuration, from environment variables (the Deployment sets them). Every
// problem is reported at once, each naming its variable, before anything starts.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

export interface OperatorConfig {
  /** Empty: in-cluster (service account) or ~/.kube/config, as client-node's loadFromDefault. */
  kubeconfig: string;
  podName: string;
  /** Namespace of the leader-election Lease (the operator's own). */
  namespace: string;
  leaseName: string;
  /** Leader-election timings (client-go's defaults 15 s / 10 s / 2 s): failover takes about leaseDurationMs. */
  lease: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  grpcHost: string;
  grpcPort: number;
  /** host:port followers name as the leader's address (the Lease holder identity carries it). */
  advertiseAddress: string;
  tls: { certChain: Buffer; privateKey: Buffer; clientCA: Buffer };
  /**
   * TLS_MODE=operator-ca (the Deployment in config/manager): no TLS files; at start the operator loads
   * or creates its CA Secret, issues its own serving certificate and serves /enroll (security/bootstrap.ts).
   * Unset in TLS_MODE=files (default): tls comes from TLS_CERT_FILE, TLS_KEY_FILE, CLIENT_CA_FILE.
   */
  pki?: { serverDnsNames: string[]; serverIPAddresses: string[]; enrollPort: number; installer: { namespace: string; serviceAccount: string } };
  healthPort: number;
  enableIPv4: boolean;
  enableIPv6: boolean;
  statefulSetKeepsIPs: boolean;
  /**
   * Auto pools from SpiderSubnets (ENABLE_AUTO_POOL, default true) and the "+N" of a workload without
   * ipam.spidernet.io/ippool-ip-number (AUTO_POOL_DEFAULT_IP_NUMBER, Spiderpool's
   * clusterSubnetDefaultFlexibleIPNumber, default 1). Absent (a config built in code): off.
   */
  autoPool?: { enabled: boolean; defaultFlexibleIPNumber: number };
  /**
   * STATEFULSET_KEEP_SCALED_DOWN_IPS (default false): a StatefulSet pod scaled away keeps its addresses
   * while the StatefulSet exists, so a later scale-up gives the ordinal the same addresses back.
   */
  statefulSetKeepScaledDownIPs?: boolean;
  gcGraceMs: number;
  /** The IP garbage collector (operator/src/gc, docs/design/gc.md); absent: DEFAULT_GC_CONFIG. */
  gc?: GcConfig;
  logLevel: string;
  /** The admission webhook (operator/src/webhook, ADR 0007); undefined when WEBHOOK_PORT is unset. */
  webhook?: WebhookConfig;
}

export interface WebhookConfig {
  /** WEBHOOK_HOST (default 0.0.0.0) and WEBHOOK_PORT (HTTPS). */
  host: string;
  port: number;
  /** Serving certificate SANs: WEBHOOK_DNS_NAMES (comma-separated; default the Service's name), WEBHOOK_IP_ADDRESSES. */
  dnsNames: string[];
  ipAddresses: string[];
  /** Configurations whose caBundle the operator sets: WEBHOOK_VALIDATING_CONFIGURATION / WEBHOOK_MUTATING_CONFIGURATION ("" for none). */
  validatingConfigurations: string[];
  mutatingConfigurations: string[];
}

export interface GcConfig {
  /** GC_IP_ENABLED (Spiderpool's SPIDERPOOL_GC_IP_ENABLED); off: only CNI DEL and pod deletion release. */
  enabled: boolean;
  /** GC_DRY_RUN: log what would be released, write nothing. */
  dryRun: boolean;
  /** GC_INTERVAL_SECONDS: period of the full scan (0: events only). */
  scanIntervalMs: number;
  /** GC_STATELESS_TERMINATING_POD_ON_READY_NODE_ENABLED */
  terminatingOnReadyNode: boolean;
  /** GC_STATELESS_TERMINATING_POD_ON_NOT_READY_NODE_ENABLED */
  terminatingOnNotReadyNode: boolean;
  /** GC_ADDITIONAL_GRACE_DELAY_SECONDS: added to a Terminating pod's deletion grace period. */
  additionalGraceDelayMs: number;
}

/** Spiderpool's defaults: GC on, both Terminating switches on, no additional delay; a scan every 5 minutes. */
export const DEFAULT_GC_CONFIG: GcConfig = {
  enabled: true,
  dryRun: false,
  scanIntervalMs: 300_000,
  terminatingOnReadyNode: true,
  terminatingOnNotReadyNode: true,
  additionalGraceDelayMs: 0,
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv): OperatorConfig {
  const problems: string[] = [];
  const str = (name: string, fallback?: string): string => {
    const v = env[name]?.trim();
    if (v) return v;
    if (fallback === undefined) problems.push(`${name} is required`);
    return fallback ?? '';
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) problems.push(`${name}=${JSON.stringify(raw)}: expected an integer in ${min}..${max}`);
    return n;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name]?.trim().toLowerCase();
    if (!raw) return fallback;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    problems.push(`${name}=${JSON.stringify(env[name])}: expected true or false`);
    return fallback;
  };
  const file = (name: string): Buffer => {
    const path = str(name);
    if (!path) return Buffer.alloc(0);
    try {
      return readFileSync(path);
    } catch (e) {
      problems.push(`${name}=${path}: cannot read: ${(e as Error).message}`);
      return Buffer.alloc(0);
    }
  };

  const podName = str('POD_NAME');
  const tlsMode = str('TLS_MODE', 'files');
  if (tlsMode !== 'files' && tlsMode !== 'operator-ca') problems.push(`TLS_MODE=${JSON.stringify(tlsMode)}: expected files or operator-ca`);
  const operatorCA = tlsMode === 'operator-ca';
  const commaList = (name: string, fallback: string): string[] => (env[name]?.trim() || fallback).split(',').map((s) => s.trim()).filter(Boolean);
  const grpcPort = int('GRPC_PORT', 9443, 1, 65535);
  // An IPv6 pod IP (single-stack v6 clusters) needs brackets to be host:port.
  const podIP = env.POD_IP?.trim() ?? '';
  const advertise = env.GRPC_ADVERTISE_ADDRESS?.trim() || (podIP ? `${isIP(podIP) === 6 ? `[${podIP}]` : podIP}:${grpcPort}` : '');
  if (!advertise) problems.push('GRPC_ADVERTISE_ADDRESS (or POD_IP) is required: followers name the leader by it');
  else if (!/^[^\s@]+:\d{1,5}$/.test(advertise)) problems.push(`GRPC_ADVERTISE_ADDRESS=${JSON.stringify(advertise)}: expected host:port`);
  const config: OperatorConfig = {
    kubeconfig: env.KUBECONFIG?.trim() ?? '',
    podName,
    namespace: str('POD_NAMESPACE'),
    leaseName: str('LEASE_NAME', 'spiderpool-ts-operator'),
    lease: {
      leaseDurationMs: int('LEASE_DURATION_SECONDS', 15, 2, 600) * 1000,
      renewDeadlineMs: int('LEASE_RENEW_DEADLINE_SECONDS', 10, 1, 599) * 1000,
      retryPeriodMs: int('LEASE_RETRY_PERIOD_SECONDS', 2, 1, 60) * 1000,
    },
    grpcHost: str('GRPC_HOST', '0.0.0.0'),
    grpcPort,
    advertiseAddress: advertise,
    tls: operatorCA
      ? { certChain: Buffer.alloc(0), privateKey: Buffer.alloc(0), clientCA: Buffer.alloc(0) }
      : { certChain: file('TLS_CERT_FILE'), privateKey: file('TLS_KEY_FILE'), clientCA: file('CLIENT_CA_FILE') },
    ...(operatorCA
      ? {
          pki: {
            serverDnsNames: commaList('SERVER_DNS_NAMES', ''),
            serverIPAddresses: commaList('SERVER_IP_ADDRESSES', env.POD_IP?.trim() ?? ''),
            enrollPort: int('ENROLL_PORT', 9444, 0, 65535),
            installer: { namespace: str('INSTALLER_NAMESPACE', env.POD_NAMESPACE?.trim() ?? ''), serviceAccount: str('INSTALLER_SERVICE_ACCOUNT', 'spiderpool-ts-installer') },
          },
        }
      : {}),
    healthPort: int('HEALTH_PORT', 8080, 0, 65535),
    enableIPv4: bool('ENABLE_IPV4', true),
    enableIPv6: bool('ENABLE_IPV6', true),
    statefulSetKeepsIPs: bool('STATEFULSET_KEEPS_IPS', true),
    statefulSetKeepScaledDownIPs: bool('STATEFULSET_KEEP_SCALED_DOWN_IPS', false),
    autoPool: { enabled: bool('ENABLE_AUTO_POOL', true), defaultFlexibleIPNumber: int('AUTO_POOL_DEFAULT_IP_NUMBER', 1, 0, 65_536) },
    gcGraceMs: int('GC_GRACE_SECONDS', 60, 0, 86_400) * 1000,
    gc: {
      enabled: bool('GC_IP_ENABLED', DEFAULT_GC_CONFIG.enabled),
      dryRun: bool('GC_DRY_RUN', DEFAULT_GC_CONFIG.dryRun),
      scanIntervalMs: int('GC_INTERVAL_SECONDS', DEFAULT_GC_CONFIG.scanIntervalMs / 1000, 0, 86_400) * 1000,
      terminatingOnReadyNode: bool('GC_STATELESS_TERMINATING_POD_ON_READY_NODE_ENABLED', DEFAULT_GC_CONFIG.terminatingOnReadyNode),
      terminatingOnNotReadyNode: bool('GC_STATELESS_TERMINATING_POD_ON_NOT_READY_NODE_ENABLED', DEFAULT_GC_CONFIG.terminatingOnNotReadyNode),
      additionalGraceDelayMs: int('GC_ADDITIONAL_GRACE_DELAY_SECONDS', DEFAULT_GC_CONFIG.additionalGraceDelayMs / 1000, 0, 86_400) * 1000,
    },
    logLevel: str('LOG_LEVEL', 'info'),
  };
  if (env.WEBHOOK_PORT?.trim()) {
    const list = (name: string, fallback: string): string[] => (env[name] ?? fallback).split(',').map((x) => x.trim()).filter((x) => x !== '');
    config.webhook = {
      host: str('WEBHOOK_HOST', '0.0.0.0'),
      port: int('WEBHOOK_PORT', 9445, 0, 65535),
      dnsNames: list('WEBHOOK_DNS_NAMES', `spiderpool-ts-webhook.${config.namespace}.svc`),
      ipAddresses: list('WEBHOOK_IP_ADDRESSES', ''),
      validatingConfigurations: list('WEBHOOK_VALIDATING_CONFIGURATION', 'spiderpool-ts-webhook'),
      mutatingConfigurations: list('WEBHOOK_MUTATING_CONFIGURATION', 'spiderpool-ts-webhook'),
    };
    for (const ip of config.webhook.ipAddresses) if (isIP(ip) === 0) problems.push(`WEBHOOK_IP_ADDRESSES: ${JSON.stringify(ip)} is not an IP address`);
    if (config.webhook.dnsNames.length + config.webhook.ipAddresses.length === 0) problems.push('WEBHOOK_DNS_NAMES and WEBHOOK_IP_ADDRESSES are both empty: the serving certificate needs a name');
  }
  if (config.tls.clientCA.length > 0) {
    try {
      new X509Certificate(config.tls.clientCA);
    } catch (e) {
      problems.push(`CLIENT_CA_FILE=${env.CLIENT_CA_FILE}: not a PEM certificate: ${(e as Error).message}`);
    }
  }
  // client-go's safety rule: a leader must give up before a follower may take over.
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = config.lease;
  if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs)) {
    problems.push(
      `LEASE_DURATION_SECONDS=${leaseDurationMs / 1000}, LEASE_RENEW_DEADLINE_SECONDS=${renewDeadlineMs / 1000}, LEASE_RETRY_PERIOD_SECONDS=${retryPeriodMs / 1000}: need duration > renew deadline > retry period`,
    );
  }
  if (operatorCA && !env.SERVER_DNS_NAMES?.trim()) problems.push('SERVER_DNS_NAMES is required with TLS_MODE=operator-ca: the names the shim verifies (the Service DNS name)');
  if (podName.includes('@')) problems.push(`POD_NAME=${JSON.stringify(podName)}: must not contain "@" (it separates name and address in the Lease identity)`);
  if (!config.enableIPv4 && !config.enableIPv6) problems.push('ENABLE_IPV4 and ENABLE_IPV6 are both false: no family to allocate');
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The Lease holder identity: `<pod>@<host:port>`, so followers can name the leader's address. */
export const leaseIdentity = (c: OperatorConfig): string => `${c.podName}@${c.advertiseAddress}`;

/** The gRPC address in a holder identity; undefined for a holder of another format. */
export function leaderAddress(identity: string | undefined): string | undefined {
  const at = identity?.lastIndexOf('@') ?? -1;
  return at > 0 ? identity!.slice(at + 1) : undefined;
}
