// A real gRPC server (@grpc/grpc-js over TLS on 127.0.0.1) speaking the IPAM service, with
// per-test handlers. It stands in for the operator's allocator service, which is built separately;
// the shim under test talks to it exactly as it would to the operator.
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { ipamServiceDefinition, rpcError, type IPAMHandlers } from '../../../operator/src/rpc/grpc-service.js';
import type { Pki } from './pki.js';

export interface Received {
  method: string;
  request: unknown;
  /** CN of the client certificate the shim presented. */
  clientCN: string | undefined;
}

export interface OperatorStub {
  port: number;
  endpoint: string;
  received: Received[];
  /** Replace handlers for the next calls. */
  handle(handlers: Partial<IPAMHandlers>): void;
  close(): Promise<void>;
}

function clientCN(call: ServerUnaryCall<unknown, unknown>): string | undefined {
  const cert = call.getAuthContext?.()?.sslPeerCertificate;
  const cn = cert?.subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

export async function startOperatorStub(pki: Pki, initial: Partial<IPAMHandlers> = {}): Promise<OperatorStub> {
  let handlers: Partial<IPAMHandlers> = initial;
  const received: Received[] = [];
  const impl: Record<string, (call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => void> = {};
  for (const method of Object.keys(ipamServiceDefinition)) {
    impl[method] = (call, cb) => {
      received.push({ method, request: call.request, clientCN: clientCN(call) });
      const h = handlers[method as keyof IPAMHandlers] as ((c: typeof call, cb: sendUnaryData<unknown>) => void) | undefined;
      if (!h) return cb(rpcError(status.UNIMPLEMENTED, `${method} not handled by this test`, { reason: 'unimplemented', metadata: {} }));
      h(call, cb);
    };
  }
  const server = new Server();
  server.addService(ipamServiceDefinition, impl);
  const creds = ServerCredentials.createSsl(pki.ca, [{ cert_chain: pki.serverCert, private_key: pki.serverKey }], true);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    endpoint: `127.0.0.1:${port}`,
    received,
    handle(h) {
      handlers = h;
    },
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
