// The agent's unix socket: frames in (wire.ts), one forwarded call each, frames out. Requests on one
// connection are answered in order (the shim sends one per connection). A bad frame gets an error
// answer and never takes the agent down; a frame above the size limit also closes that connection,
// since the stream cannot be resynchronised after it.
import { chmodSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { GrpcCode } from '../../../operator/src/rpc/errors.js';
import { RpcError, type IpamMethod, type RequestOf, type ResponseOf } from '../rpc-client.js';
import type { Logger } from '../log.js';
import type { Forwarder } from './upstream.js';
import { decodeRequest, encodeError, encodeOk, FrameReader, wireName } from './wire.js';

export interface AgentServerOptions {
  socketPath: string;
  forwarder: Forwarder;
  log: Logger;
  /** How long SIGTERM waits for in-flight calls before closing their connections. */
  drainMs: number;
}

/** Is something answering on this socket? (connect succeeds → yes). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Makes `path` free for our socket: refuses when another agent answers or it is not a socket. */
async function claimSocketPath(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // nothing there
  }
  if (!st.isSocket()) throw new Error(`--socket ${path}: exists and is not a socket; remove it or choose another path`);
  if (await answers(path)) {
    throw new Error(`--socket ${path}: another agent answers on it; stop that agent first (or give this one another --socket)`);
  }
  rmSync(path, { force: true }); // stale socket of an agent that died
}

export class AgentServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private inFlight = 0;
  private idle: (() => void) | undefined;

  constructor(private readonly opts: AgentServerOptions) {}

  async listen(): Promise<void> {
    const { socketPath } = this.opts;
    await claimSocketPath(socketPath);
    const server = createServer((socket) => this.serve(socket));
    // The socket is created 0600 (umask during bind), not chmod-ed after: no window where others can connect.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(umask);
    }
    chmodSync(socketPath, 0o600);
    server.on('error', (e) => this.opts.log.error('agent socket error', { socket: socketPath, error: e.message }));
    this.server = server;
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    const reader = new FrameReader();
    let queue: Promise<void> = Promise.resolve();
    socket.on('error', (e) => this.opts.log.debug('client connection error', { error: e.message }));
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      const frames = reader.push(chunk);
      if (frames instanceof RpcError) {
        this.opts.log.warn('bad frame from a client; closing its connection', { error: frames.message });
        socket.end(encodeError(frames));
        return;
      }
      for (const body of frames) queue = queue.then(() => this.answer(socket, body));
    });
  }

  private async answer(socket: Socket, body: Buffer): Promise<void> {
    const req = decodeRequest(body);
    if (req instanceof RpcError) {
      this.opts.log.warn('malformed request', { error: req.message });
      if (socket.writable) socket.write(encodeError(req));
      return;
    }
    const started = Date.now();
    this.inFlight++;
    let out: Buffer;
    try {
      const res = await this.opts.forwarder.call(req.method, req.request as RequestOf<IpamMethod>, req.deadlineMs);
      out = encodeOk(req.method, res as ResponseOf<IpamMethod>);
      this.opts.log.debug('forwarded', { method: wireName(req.method), ...describe(req.request), ms: Date.now() - started });
    } catch (e) {
      const err = e instanceof RpcError ? e : new RpcError(GrpcCode.INTERNAL, `agent: ${(e as Error).message}`);
      // Expected answers (NOT_FOUND on DEL of a released pod, exhausted pools) stay at debug, trouble at warn.
      const level = err.code === GrpcCode.NOT_FOUND ? 'debug' : 'warn';
      this.opts.log[level]('operator call failed', { method: wireName(req.method), ...describe(req.request), code: err.code, reason: err.detail?.reason, error: err.message, ms: Date.now() - started });
      out = encodeError(err);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.idle?.();
    }
    if (socket.writable) socket.write(out);
  }

  /** Stop accepting, let in-flight calls finish (bounded by drainMs), remove the socket. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // close() stops accepting now; its callback waits for open connections, which end below.
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.opts.drainMs);
        this.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const s of this.sockets) s.end();
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    for (const s of this.sockets) s.destroy();
    rmSync(this.opts.socketPath, { force: true });
    this.opts.forwarder.close();
  }
}

/** The pod / container a request is about, for log lines (no secrets in IPAM requests). */
function describe(request: unknown): Record<string, unknown> {
  const r = request as { pod?: { namespace?: string; name?: string }; containerId?: string; ifname?: string; nodeName?: string; requestId?: string };
  return {
    ...(r.pod?.name ? { namespace: r.pod.namespace, name: r.pod.name } : {}),
    ...(r.containerId ? { containerId: r.containerId } : {}),
    ...(r.ifname ? { ifname: r.ifname } : {}),
    ...(r.requestId ? { requestId: r.requestId } : {}),
  };
}
