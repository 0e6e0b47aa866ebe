// Runs tests/nodesim/main.ts as a child process (its life = the simulated machines' life):
// start() resolves on its `{"ready":...}` stdout line; powerOff() is SIGKILL; stop() is SIGTERM.
// stderr (JSON log lines) goes to a file so a failing test can point at it.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../support/cluster.js';

export { repoRoot };

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class NodesimProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<ExitInfo> | undefined;
  readonly summaries: Array<Record<string, unknown>> = [];
  starts = 0;

  constructor(
    private readonly args: string[],
    readonly logFile: string,
  ) {}

  start(timeoutMs = 60_000): Promise<void> {
    this.starts++;
    const log = createWriteStream(this.logFile, { flags: 'a' });
    log.write(`\n==== start #${this.starts} ${new Date().toISOString()} ====\n`);
    const child = spawn(process.execPath, ['--disable-warning=DEP0180', '--import', './hack/register-ts.mjs', 'tests/nodesim/main.ts', 'run', ...this.args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env },
    });
    this.child = child;
    child.stderr!.pipe(log);
    this.exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
    return new Promise<void>((resolveReady, reject) => {
      let buf = '';
      let ready = false;
      const timer = setTimeout(() => {
        if (!ready) reject(new Error(`nodesim not ready within ${timeoutMs / 1000} s (log: ${this.logFile})`));
      }, timeoutMs);
      child.stdout!.on('data', (b: Buffer) => {
        buf += b.toString('utf8');
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          log.write(`[stdout] ${line}\n`);
          try {
            const o = JSON.parse(line) as { ready?: unknown; summary?: Record<string, unknown> };
            if (o.summary) this.summaries.push(o.summary);
            if (o.ready && !ready) {
              ready = true;
              clearTimeout(timer);
              resolveReady();
            }
          } catch {
            /* not ours */
          }
        }
      });
      void this.exited!.then((e) => {
        if (!ready) {
          clearTimeout(timer);
          reject(new Error(`nodesim exited before ready (${JSON.stringify(e)}); log: ${this.logFile}`));
        }
      });
    });
  }

  isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  pid(): number | undefined {
    return this.child?.pid;
  }

  /** Power off: SIGKILL, nothing runs after it. */
  async powerOff(): Promise<ExitInfo> {
    this.child?.kill('SIGKILL');
    return this.exited ?? { code: null, signal: null };
  }

  /** Graceful stop (kubelet stop): SIGTERM, bounded. */
  async stop(timeoutMs = 30_000): Promise<ExitInfo> {
    if (!this.isRunning()) return this.exited ?? { code: null, signal: null };
    this.child!.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    const e = await this.exited!;
    clearTimeout(t);
    return e;
  }
}

export const nodesimLogPath = (dir: string, name: string): string => join(dir, `${name}.log`);
