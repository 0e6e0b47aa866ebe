// A real Prometheus (Debian's `prometheus`, installed by hack/controlplane/install-deps.sh) for a
// test: its own config and data dir under a temp dir, listening on 127.0.0.1:<free port>, scraping
// the given targets every second and evaluating the given rule files; queried over its HTTP API.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../helpers/ipam-stack.js';
import { tail } from '../helpers/operator-process.js';
import { waitFor } from '../helpers/wait.js';

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export interface PrometheusOptions {
  dir: string;
  job: string;
  /** host:port targets scraped at /metrics */
  targets: string[];
  ruleFiles?: string[];
}

export class Prometheus {
  private child: ChildProcess | undefined;
  port = 0;
  readonly logFile: string;

  constructor(private readonly opts: PrometheusOptions) {
    this.logFile = join(opts.dir, 'prometheus.log');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const { dir } = this.opts;
    mkdirSync(join(dir, 'data'), { recursive: true });
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
      ...(this.opts.ruleFiles?.length ? { rule_files: this.opts.ruleFiles } : {}),
      scrape_configs: [{ job_name: this.opts.job, metrics_path: '/metrics', static_configs: [{ targets: this.opts.targets }] }],
    };
    const configFile = join(dir, 'prometheus.yml');
    writeFileSync(configFile, stringify(config));
    this.port = await freePort();
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(
      'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=info',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    let spawnError: Error | undefined;
    child.once('error', (e) => (spawnError = e));
    await waitFor(
      `prometheus ready on 127.0.0.1:${this.port}`,
      async () => {
        if (spawnError) throw new Error(`prometheus did not start: ${spawnError.message} (hack/controlplane/install-deps.sh installs it)`);
        if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${tail(this.logFile)}`);
        const res = await fetch(`${this.url}/-/ready`);
        return { ok: res.status === 200, detail: `${res.status}` };
      },
      timeoutMs,
      250,
    );
  }

  /** An instant query; the vector's samples. Throws on an API error (naming the query). */
  async query(expr: string): Promise<PromSample[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success' || !body.data) throw new Error(`query ${expr}: ${res.status} ${body.error ?? ''}`);
    if (body.data.resultType !== 'vector') throw new Error(`query ${expr}: expected a vector, got ${body.data.resultType}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** The single value of a query that must return one sample. */
  async scalar(expr: string): Promise<number | undefined> {
    const r = await this.query(expr);
    if (r.length > 1) throw new Error(`query ${expr}: expected at most one sample, got ${JSON.stringify(r)}`);
    return r[0]?.value;
  }

  async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`);
    return (await res.json()) as T;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
