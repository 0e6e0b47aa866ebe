// client-node 2.x glue shared by the simulator: clients from a kubeconfig, merge-patch options,
// ApiException helpers and RFC 3339 micro-time (Lease renewTime).
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  VersionApi,
  setHeaderOptions,
} from '@kubernetes/client-node';

export interface Clients {
  kc: KubeConfig;
  core: CoreV1Api;
  coord: CoordinationV1Api;
  version: VersionApi;
}

/**
 * client-node 2.0.1 builds a new undici Agent — so a new TCP connection and TLS handshake — for
 * every request (KubeConfig.applySecurityAuthentication -> createDispatcher). A kubelet keeps its
 * connections; so do we: one dispatcher per KubeConfig (its TLS options are fixed by the file).
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const k = kc as unknown as { createDispatcher?: (cluster: unknown, opts: unknown) => unknown };
  const orig = k.createDispatcher;
  if (typeof orig !== 'function') return kc; // library changed: keep its behaviour
  let cached: unknown;
  k.createDispatcher = function (this: unknown, cluster: unknown, opts: unknown) {
    cached ??= orig.call(this, cluster, opts);
    return cached;
  };
  return kc;
}

export function makeClients(kubeconfig: string): Clients {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  if (process.env.NODESIM_FRESH_CONNECTIONS !== '1') reuseConnections(kc);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    coord: kc.makeApiClient(CoordinationV1Api),
    version: kc.makeApiClient(VersionApi),
  };
}

export const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function apiCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const c = (err as { code?: unknown; statusCode?: unknown } | null)?.statusCode ?? (err as { code?: unknown } | null)?.code;
  return typeof c === 'number' ? c : undefined;
}

/** Short, log-friendly message of an ApiException (its body is raw JSON Status). */
export function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    try {
      const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as { message?: string };
      if (body?.message) return `HTTP ${err.code}: ${body.message}`;
    } catch {
      /* fall through */
    }
    return `HTTP ${err.code}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** RFC 3339 with microseconds, the wire format of metav1.MicroTime. */
export function microTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export const rfc3339 = (d: Date = new Date()): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
