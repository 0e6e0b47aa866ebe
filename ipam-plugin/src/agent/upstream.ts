// The agent's side towards the operator: ONE persistent TLS gRPC connection (IpamClient keeps its
// HTTP/2 session open between calls) authenticated with the node's client certificate.
//
// Why the session is dropped on UNAVAILABLE, not-leader and DEADLINE_EXCEEDED: a connection that
// outlives a leader change stays pinned to the old leader (the Service balanced it once), which
// then answers not-leader for ever. A fresh connection is routed again, to the current leader.
// UNAVAILABLE and not-leader are retried once on the fresh connection within the caller's deadline:
// every IPAM call is idempotent (allocate/release on pod UID + interface), so a repeat is safe.
import { statSync, readFileSync } from 'node:fs';
import { ErrorReason, GrpcCode } from '../../../operator/src/rpc/errors.js';
import { IpamClient, RpcError, type IpamMethod, type RequestOf, type ResponseOf } from '../rpc-client.js';

export interface UpstreamOptions {
  endpoint: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  serverName: string;
  /** Upper bound of one call (a shim's deadline above it is cut to it). */
  timeoutMs: number;
}

/** What the agent needs of an IPAM client (tests substitute a fake). */
export interface Forwarder {
  call<K extends IpamMethod>(method: K, request: RequestOf<K>, timeoutMs: number): Promise<ResponseOf<K>>;
  close(): void;
}

/** Observations for logs and tests. */
export interface UpstreamEvents {
  onReconnect?(why: string): void;
}

// Below this much time left, a retry could not get an answer anyway: return the first error.
const MIN_RETRY_MS = 50;

function mtimeKey(files: readonly string[]): string {
  return files.map((f) => {
    try {
      const st = statSync(f);
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return 'missing';
    }
  }).join('|');
}

export function dropsSession(err: RpcError): boolean {
  return err.code === GrpcCode.UNAVAILABLE || err.code === GrpcCode.DEADLINE_EXCEEDED || err.detail?.reason === ErrorReason.NotLeader;
}

function retryable(err: RpcError): boolean {
  return err.code === GrpcCode.UNAVAILABLE || err.detail?.reason === ErrorReason.NotLeader;
}

export class Upstream implements Forwarder {
  private client: Forwarder | undefined;
  private filesKey = '';

  constructor(
    private readonly opts: UpstreamOptions,
    private readonly events: UpstreamEvents = {},
    /** Seam for tests: how a client is made from the files' contents. */
    private readonly makeClient: (o: ConstructorParameters<typeof IpamClient>[0]) => Forwarder = (o) => new IpamClient(o),
  ) {}

  private readFile(path: string, flag: string): Buffer {
    try {
      return readFileSync(path);
    } catch (e) {
      // UNAVAILABLE: the shim answers CNI 11 and the runtime retries — the installer may be renewing.
      throw new RpcError(GrpcCode.UNAVAILABLE, `agent: cannot read ${flag} ${path}: ${(e as Error).message}`);
    }
  }

  /** The current client; a new one when there is none or the certificate files changed (renewal). */
  private current(): Forwarder {
    const { caFile, certFile, keyFile } = this.opts;
    const key = mtimeKey([caFile, certFile, keyFile]);
    if (this.client && key === this.filesKey) return this.client;
    if (this.client) {
      this.events.onReconnect?.('certificate files changed');
      this.client.close();
      this.client = undefined;
    }
    const client = this.makeClient({
      endpoint: this.opts.endpoint,
      ca: this.readFile(caFile, '--tls-ca-file'),
      cert: this.readFile(certFile, '--tls-cert-file'),
      key: this.readFile(keyFile, '--tls-key-file'),
      serverName: this.opts.serverName,
      timeoutMs: this.opts.timeoutMs,
    });
    this.client = client;
    this.filesKey = key;
    return client;
  }

  /** Closes the connection (in-flight calls on it finish); the next call opens a new one. */
  drop(why: string, used?: Forwarder): void {
    // Only the connection the failed call used: a concurrent call may already have replaced it.
    if (!this.client || (used && used !== this.client)) return;
    this.events.onReconnect?.(why);
    this.client.close();
    this.client = undefined;
  }

  async call<K extends IpamMethod>(method: K, request: RequestOf<K>, timeoutMs: number): Promise<ResponseOf<K>> {
    const deadline = Date.now() + Math.min(timeoutMs > 0 ? timeoutMs : this.opts.timeoutMs, this.opts.timeoutMs);
    for (let attempt = 1; ; attempt++) {
      const client = this.current();
      try {
        return await client.call(method, request, Math.max(1, deadline - Date.now()));
      } catch (e) {
        if (!(e instanceof RpcError)) throw e;
        if (dropsSession(e)) this.drop(e.detail?.reason === ErrorReason.NotLeader ? 'not-leader answer' : `gRPC status ${e.code}`, client);
        if (attempt >= 2 || !retryable(e) || deadline - Date.now() < MIN_RETRY_MS) throw e;
      }
    }
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }
}
