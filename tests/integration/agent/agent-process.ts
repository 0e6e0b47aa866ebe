// spiderpool-ts-agent as a child process (dist/spiderpool-ts-agent.mjs under this Node 24), for the
// agent's integration tests and the seed benchmark's one-agent-per-simulated-node setup.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { connect } from 'node:net';

/** Does something accept connections on this unix socket? */
function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export interface AgentProcessOptions {
  /** The agent bundle (a copy of ipam-plugin/dist/spiderpool-ts-agent.mjs). */
  bundle: string;
  socketPath: string;
  endpoint: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  serverName?: string;
  timeoutMs?: number;
  logLevel?: string;
  /** Where stderr (JSON log lines) goes; kept in memory too, for assertions. */
  logFile?: string;
}

export class AgentProcess {
  private child: ChildProcess | undefined;
  private out: WriteStream | undefined;
  /** Every stderr line of every run, in order. */
  readonly lines: string[] = [];

  constructor(readonly opts: AgentProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts it and waits (bounded) until its socket accepts connections; rejects with its log when it exits first. */
  async start(timeoutMs = 15_000): Promise<void> {
    const o = this.opts;
    const args = [
      '--disable-warning=ExperimentalWarning',
      o.bundle,
      '--socket', o.socketPath,
      '--operator-endpoint', o.endpoint,
      '--tls-ca-file', o.caFile,
      '--tls-cert-file', o.certFile,
      '--tls-key-file', o.keyFile,
      '--log-level', o.logLevel ?? 'info',
      '--timeout-ms', String(o.timeoutMs ?? 10_000),
      ...(o.serverName ? ['--tls-server-name', o.serverName] : []),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    if (o.logFile && !this.out) this.out = createWriteStream(o.logFile, { flags: 'a' });
    const from = this.lines.length;
    let partial = '';
    child.stderr!.on('data', (c: Buffer) => {
      this.out?.write(c);
      const parts = (partial + c.toString()).split('\n');
      partial = parts.pop() ?? '';
      this.lines.push(...parts.filter((l) => l !== ''));
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent on ${o.socketPath}: not accepting connections within ${timeoutMs} ms; log:\n${this.lines.slice(from).join('\n')}`)), timeoutMs);
      let probing = false;
      const poll = setInterval(() => {
        if (probing) return;
        probing = true;
        void accepts(o.socketPath).then((ok) => {
          probing = false;
          if (!ok || child.exitCode !== null) return;
          clearTimeout(timer);
          clearInterval(poll);
          child.off('exit', onExit);
          resolve();
        });
      }, 20);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        clearInterval(poll);
        reject(new Error(`agent on ${o.socketPath} exited ${code} before listening; log:\n${this.lines.slice(from).join('\n')}`));
      };
      child.once('exit', onExit);
    });
  }

  /** SIGTERM (graceful: drains, removes the socket), SIGKILL after `graceMs`; resolves with the exit code. */
  async stop(graceMs = 10_000): Promise<number | null> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  /** Ends the log file stream (after the last stop). */
  close(): void {
    this.out?.end();
    this.out = undefined;
  }
}
