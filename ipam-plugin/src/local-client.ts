// The shim's client for the node-local agent (ADR 0013): one request frame on the agent's unix
// socket, one answer frame back (agent/wire.ts). Same `call` contract as IpamClient — the answer, or
// the operator's RpcError(code, message, detail) rebuilt byte for byte — so plugin.ts maps errors to
// CNI codes exactly as in direct mode. Only node:net: no TLS, no HTTP/2, no crypto in this process.
import { connect } from 'node:net';
import { GrpcCode } from '../../operator/src/rpc/errors.js';
import { CniCode, CniError } from './cni/errors.js';
import { RpcError, type IpamMethod, type RequestOf, type ResponseOf } from './rpc-client.js';
import { decodeResponse, encodeRequest, FrameReader, wireName } from './agent/wire.js';

export class LocalClient {
  constructor(
    private readonly socketPath: string,
    private readonly timeoutMs: number,
  ) {}

  call<K extends IpamMethod>(method: K, request: RequestOf<K>): Promise<ResponseOf<K>> {
    const frame = encodeRequest(method, request, this.timeoutMs);
    const name = wireName(method);
    return new Promise<ResponseOf<K>>((resolve, reject) => {
      const socket = connect(this.socketPath);
      let settled = false;
      const finish = (err: Error | null, value?: ResponseOf<K>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(value as ResponseOf<K>);
      };
      // The agent enforces the deadline towards the operator; this one only guards against a hung agent.
      const timer = setTimeout(
        () => finish(new RpcError(GrpcCode.DEADLINE_EXCEEDED, `${name}: no answer from the agent on ${this.socketPath} within ${this.timeoutMs} ms`)),
        this.timeoutMs + 500,
      );
      const reader = new FrameReader();
      // write, not end: the agent answers on the same connection, and the shim closes it after reading.
      socket.on('connect', () => socket.write(frame));
      socket.on('data', (chunk: Buffer) => {
        const frames = reader.push(chunk);
        if (frames instanceof RpcError) return finish(frames);
        const body = frames[0];
        if (!body) return;
        const res = decodeResponse(method, body);
        if (res instanceof RpcError) finish(res);
        else finish(null, res);
      });
      socket.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') {
          // CNI 11: the runtime retries the ADD; the agent is restarting or not deployed yet.
          return finish(new CniError(CniCode.TryAgainLater, `agent socket ${this.socketPath}: ${e.code}; is spiderpool-ts-agent running on this node?`));
        }
        finish(new RpcError(GrpcCode.UNAVAILABLE, `${name}: agent socket ${this.socketPath}: ${e.message}`));
      });
      socket.on('close', () => finish(new RpcError(GrpcCode.UNAVAILABLE, `${name}: the agent on ${this.socketPath} closed the connection before answering`)));
    });
  }

  close(): void {
    // One connection per call, closed when it is answered: nothing to release.
  }
}
