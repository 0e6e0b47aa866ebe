// The IPAM gRPC endpoint: TLS with required client certificates, the caller's node taken from its
// certificate, followers pointing at the leader, and the allocator service behind it.
//
// Node identity: the client certificate's subject CN is the node name, plainly (`worker-1`, not
// `system:node:worker-1`): the operator issues these certificates itself (ADR 0006) and the CN is
// compared with spec.nodeName, so the bare name avoids a prefix convention that means something
// else to the Kubernetes API (the kubelet's own identity). The TLS handshake already refused any
// client without a certificate chaining to the configured client CA. The default hook reads only the
// CN; the operator (main.ts) passes the security module's nodeAuthenticator, which also requires
// O=spiderpool-ts:nodes, clientAuth and issuance by our CA (ADR 0006).
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import type { Logger } from '../framework/logger.js';
import { ErrorReason, GrpcCode } from '../rpc/errors.js';
import { type IPAMHandlers, ipamServiceDefinition, rpcError } from '../rpc/grpc-service.js';
import type { AllocatorService } from './allocator-service.js';
import { IpamError } from './errors.js';

type AuthContext = ReturnType<ServerUnaryCall<unknown, unknown>['getAuthContext']>;

export interface Leadership {
  leading: boolean;
  /** The leader's gRPC address (host:port) when known. */
  leader?: string | undefined;
}

export interface GrpcServerOptions {
  service: AllocatorService;
  leadership: () => Leadership;
  /** PEM: server certificate chain, its key, and the CA that signs node client certificates. */
  tls: { certChain: Buffer; privateKey: Buffer; clientCA: Buffer };
  /** The node a caller authenticates as; default: the certificate's CN. */
  authenticate?: (auth: AuthContext) => string | IpamError;
  log: Logger;
}

export class IpamGrpcServer {
  private readonly server = new Server();
  private readonly authenticate: (auth: AuthContext) => string | IpamError;

  constructor(private readonly opts: GrpcServerOptions) {
    this.authenticate = opts.authenticate ?? nodeFromCommonName;
    const handlers: IPAMHandlers = {
      allocate: this.unary('Allocate', (r) => r.nodeName, (r) => opts.service.allocate(r)),
      release: this.unary('Release', (r) => r.nodeName, (r) => opts.service.release(r)),
      check: this.unary('Check', (r) => r.nodeName, (r) => opts.service.check(r)),
      gC: this.unary('GC', (r) => r.nodeName, (r) => opts.service.gc(r)),
      status: this.unary('Status', (r) => r.nodeName, async () => opts.service.status()),
    };
    this.server.addService(ipamServiceDefinition, handlers as never);
  }

  /** Binds host:port (port 0 picks one); resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    const { certChain, privateKey, clientCA } = this.opts.tls;
    const creds = ServerCredentials.createSsl(clientCA, [{ cert_chain: certChain, private_key: privateKey }], true);
    return new Promise((resolve, reject) =>
      this.server.bindAsync(`${host}:${port}`, creds, (err, bound) => (err ? reject(new Error(`gRPC listen on ${host}:${port}: ${err.message}`, { cause: err })) : resolve(bound))),
    );
  }

  /** Stops accepting calls, lets running ones finish for up to graceMs, then cuts the rest. */
  stop(graceMs = 10_000): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private unary<Req, Res>(method: string, nodeOf: (r: Req) => string, run: (r: Req) => Promise<Res>) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const answer = async (): Promise<Res> => {
        const node = this.authenticate(call.getAuthContext());
        if (node instanceof IpamError) throw node;
        const claimed = nodeOf(call.request);
        if (claimed && claimed !== node) {
          throw new IpamError(GrpcCode.UNAUTHENTICATED, ErrorReason.Unauthenticated, `client certificate is for node ${node}, the request names node ${claimed}`);
        }
        const lead = this.opts.leadership();
        if (!lead.leading) {
          throw new IpamError(GrpcCode.UNAVAILABLE, ErrorReason.NotLeader, `this replica is not the leader${lead.leader ? `; the leader is ${lead.leader}` : ''}`, lead.leader ? { leader: lead.leader } : {});
        }
        return run(call.request);
      };
      answer().then(
        (res) => callback(null, res),
        (e: unknown) => {
          if (e instanceof IpamError) {
            if (e.code === GrpcCode.UNAUTHENTICATED || e.code === GrpcCode.INTERNAL) this.opts.log.warn(`${method} refused`, { reason: e.reason, error: e.message });
            callback(rpcError(e.code, e.message, { reason: e.reason, metadata: e.metadata }));
            return;
          }
          const err = e instanceof Error ? e : new Error(String(e));
          this.opts.log.error(`${method} failed`, { error: err });
          callback({ code: status.INTERNAL, details: `${method}: ${err.message}` });
        },
      );
    };
  }
}

/** The caller's node: its certificate's subject CN. */
export function nodeFromCommonName(auth: AuthContext): string | IpamError {
  const cn = auth.sslPeerCertificate?.subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return new IpamError(GrpcCode.UNAUTHENTICATED, ErrorReason.Unauthenticated, 'no client certificate with a subject CN (the node name)');
  return name;
}
