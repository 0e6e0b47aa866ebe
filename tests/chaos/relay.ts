// What the operator's Service is to the shim in a real cluster: one address (the shim takes one
// operator_endpoint) that reaches the leader. Every replica's /readyz names the Lease holder
// (`leader: <pod>@<host:port>`, followers included), so each new connection goes to the replica that
// the replicas' /readyz named as leader last (polled every 300 ms); with no answer it goes to the last
// known leader (the shim then gets a refusal or "not the leader" and the runtime retries, as on a
// cluster mid-failover).
import { get } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Backend {
  grpcPort: number;
  healthPort: number;
}

/** The Lease holder a replica's /readyz names (any status), or undefined. */
function leaderSeenBy(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/readyz', timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('utf8')));
      res.on('end', () => {
        try {
          const leader = (JSON.parse(body) as { leader?: unknown }).leader;
          resolve(typeof leader === 'string' ? leader : undefined);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

export class ReadyRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private timer: NodeJS.Timeout | undefined;
  private target = 0;
  /** Connections per backend, and how often the target changed. */
  readonly connections: number[];
  switches = 0;

  constructor(private readonly backends: Backend[]) {
    this.connections = backends.map(() => 0);
  }

  async start(): Promise<number> {
    const poll = async () => {
      const seen = await Promise.all(this.backends.map((b) => leaderSeenBy(b.healthPort)));
      const i = this.backends.findIndex((b) => seen.some((l) => l?.endsWith(`@127.0.0.1:${b.grpcPort}`)));
      if (i >= 0 && i !== this.target) {
        this.target = i;
        this.switches++;
      }
      if (this.server) this.timer = setTimeout(() => void poll(), 300);
    };
    this.server = createServer((inbound) => {
      const i = this.target;
      this.connections[i]!++;
      const outbound = connect(this.backends[i]!.grpcPort, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    const port = await new Promise<number>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve((this.server!.address() as { port: number }).port));
    });
    await poll();
    return port;
  }

  stop(): void {
    clearTimeout(this.timer);
    for (const s of this.sockets) s.destroy();
    this.server?.close();
    this.server = undefined;
  }
}
