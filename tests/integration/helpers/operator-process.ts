// Runs the real operator (operator/src/main.ts) as a child process, configured only through its
// environment as the Deployment would: start() resolves once /readyz answers 200 (caches synced and
// leading), kill() is a kill -9, stop() is SIGTERM (drain, hand the Lease over). stdout and stderr
// (JSON log lines) go to a file so a failing test can point at it.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { repoRoot } from '../../support/cluster.js';
import type { ExitInfo } from './nodesim-process.js';

function readyz(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/readyz', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export class OperatorProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<ExitInfo> | undefined;
  starts = 0;

  /** env: the operator's variables (operator/src/config.ts), HEALTH_PORT included (fixed, not 0). */
  constructor(
    private readonly env: Record<string, string>,
    readonly logFile: string,
  ) {}

  get healthPort(): number {
    return Number(this.env.HEALTH_PORT);
  }

  async start(timeoutMs = 90_000): Promise<void> {
    this.starts++;
    const log = createWriteStream(this.logFile, { flags: 'a' });
    log.write(`\n==== start #${this.starts} ${new Date().toISOString()} ====\n`);
    const child = spawn(process.execPath, ['--disable-warning=DEP0180', '--import', './hack/register-ts.mjs', 'operator/src/main.ts'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.env },
    });
    this.child = child;
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    this.exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (!this.isRunning()) {
        const e = await this.exited;
        throw new Error(`operator exited before ready (${JSON.stringify(e)}); log: ${this.logFile}\n${tail(this.logFile)}`);
      }
      try {
        const r = await readyz(this.healthPort);
        if (r.status === 200) return;
        last = `${r.status} ${r.body}`;
      } catch (e) {
        last = (e as Error).message;
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`operator not ready within ${timeoutMs / 1000} s (last /readyz: ${last}); log: ${this.logFile}\n${tail(this.logFile)}`);
  }

  isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  pid(): number | undefined {
    return this.child?.pid;
  }

  async kill(): Promise<ExitInfo> {
    this.child?.kill('SIGKILL');
    return this.exited ?? { code: null, signal: null };
  }

  async stop(timeoutMs = 20_000): Promise<ExitInfo> {
    if (!this.isRunning()) return this.exited ?? { code: null, signal: null };
    this.child!.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    const e = await this.exited!;
    clearTimeout(t);
    return e;
  }
}

/** The last lines of a log file, for a failure message. */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
