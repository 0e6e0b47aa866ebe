// The chaos suite's own control plane: hack/controlplane/up.sh with another state dir and other ports
// (SPIDERPOOL_TS_CLUSTER_DIR and the port variables of lib.sh), so restarting its apiserver or etcd
// never disturbs the shared cluster on 6443 that other tests use. Components are restarted with
// hack/controlplane/restart-component.sh (the command line up.sh recorded, same data).
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { kubectlPath, repoRoot } from '../support/cluster.js';

export interface ChaosClusterOptions {
  dir: string;
  /** etcd client = base, etcd peer = base+1, apiserver = base+2, controller-manager = base+3, scheduler = base+4. */
  portBase: number;
  /** Extra flags for kube-controller-manager (e.g. a shorter --node-monitor-grace-period). */
  kcmExtraArgs?: string;
  say: (msg: string) => void;
}

export type Component = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';

export class ChaosCluster {
  readonly kubeconfig: string;
  readonly env: Record<string, string>;
  private up = false;

  constructor(private readonly o: ChaosClusterOptions) {
    this.kubeconfig = join(o.dir, 'kubeconfig');
    const p = o.portBase;
    this.env = {
      SPIDERPOOL_TS_CLUSTER_DIR: o.dir,
      SPIDERPOOL_TS_ETCD_PORT: String(p),
      SPIDERPOOL_TS_ETCD_PEER_PORT: String(p + 1),
      SPIDERPOOL_TS_APISERVER_PORT: String(p + 2),
      SPIDERPOOL_TS_KCM_PORT: String(p + 3),
      SPIDERPOOL_TS_SCHEDULER_PORT: String(p + 4),
      SPIDERPOOL_TS_SKIP_BUILD: '1',
      ...(o.kcmExtraArgs ? { SPIDERPOOL_TS_KCM_EXTRA_ARGS: o.kcmExtraArgs } : {}),
    };
  }

  get server(): string {
    return `https://127.0.0.1:${this.o.portBase + 2}`;
  }

  private script(name: string, args: string[] = [], timeoutMs = 300_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(join(repoRoot, 'hack', 'controlplane', name), args, { cwd: repoRoot, env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const keep = (b: Buffer) => {
        out = (out + b.toString('utf8')).slice(-16_000);
        for (const line of b.toString('utf8').split('\n')) if (line.startsWith('[cluster')) this.o.say(line.trim());
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`hack/controlplane/${name} ${args.join(' ')} exited ${code}:\n${out.slice(-3000)}`));
      });
    });
  }

  async start(): Promise<void> {
    this.up = true; // a failed up.sh may leave processes: stop() cleans up after it
    await this.script('up.sh');
  }

  /** Restart one component (SIGTERM, or SIGKILL with kill), down for downSeconds; resolves when healthy again. */
  restart(c: Component, opts: { kill?: boolean; downSeconds?: number } = {}): Promise<void> {
    return this.script('restart-component.sh', [c, ...(opts.kill ? ['--kill'] : []), ...(opts.downSeconds ? ['--down-seconds', String(opts.downSeconds)] : [])]);
  }

  async stop(): Promise<void> {
    if (!this.up) return;
    this.up = false;
    await this.script('down.sh', [], 120_000);
  }

  /** kubectl against this cluster. */
  kubectl(args: readonly string[], input?: string, timeoutMs = 60_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(kubectlPath, [`--kubeconfig=${this.kubeconfig}`, ...args], { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      });
      child.stdin?.end(input ?? '');
    });
  }
}
