// A real @grpc/grpc-js IPAM server (mTLS on 127.0.0.1) that can be stopped and started again on the
// same port — what the agent sees when the operator restarts. Handlers are per test; every call is
// recorded with the client's peer address (a new address = a new connection).
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { ipamServiceDefinition, rpcError, type IPAMHandlers } from '../../../operator/src/rpc/grpc-service.js';
import type { Pki } from '../../../ipam-plugin/test/support/pki.js';

export interface Call {
  method: string;
  request: unknown;
  peer: string;
  clientCN: string | undefined;
}

export class RestartableStub {
  private server: Server | undefined;
  handlers: Partial<IPAMHandlers> = {};
  readonly calls: Call[] = [];
  port = 0;

  constructor(private readonly pki: Pki) {}

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const impl: Record<string, (call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => void> = {};
    for (const method of Object.keys(ipamServiceDefinition)) {
      impl[method] = (call, cb) => {
        const cn = call.getAuthContext?.()?.sslPeerCertificate?.subject?.CN;
        this.calls.push({ method, request: call.request, peer: call.getPeer(), clientCN: Array.isArray(cn) ? cn[0] : cn });
        const h = this.handlers[method as keyof IPAMHandlers] as ((c: typeof call, cb: sendUnaryData<unknown>) => void) | undefined;
        if (!h) return cb(rpcError(status.UNIMPLEMENTED, `${method} not handled by this test`, { reason: 'unimplemented', metadata: {} }));
        h(call, cb);
      };
    }
    const server = new Server();
    server.addService(ipamServiceDefinition, impl);
    const creds = ServerCredentials.createSsl(this.pki.ca, [{ cert_chain: this.pki.serverCert, private_key: this.pki.serverKey }], true);
    this.port = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${this.port}`, creds, (err, p) => (err ? reject(err) : resolve(p))));
    this.server = server;
  }

  /** Stops at once: open connections are dropped, as when the operator process dies. */
  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }
}
