// The manager runs the operator's pieces in the right order and takes them down gracefully:
//
//   start: health server → informers → wait for caches → always-on controllers → leader election
//          (leader-only controllers run between onStartedLeading and onStoppedLeading)
//   stop (SIGTERM/SIGINT): not ready → leader-only controllers drain → Lease released (a successor
//          takes over at once) → always-on controllers drain → informers stop → health server closes
//
// /healthz answers "is this process working" (a stuck leader that cannot renew is not);
// /readyz answers "should traffic come here": caches synced and, with leader election, either
// leading or a follower that can reach the Lease (it answers with a pointer to the leader).
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Controller } from './controller.js';
import { LeaderElector } from './leader-election.js';
import type { LeaderElectorOptions } from './leader-election.js';
import type { Logger } from './logger.js';

/** What the manager needs of an informer (any kind). */
export interface Cache {
  start(): void;
  stop(): Promise<void>;
  hasSynced(): boolean;
  waitForSync(timeoutMs?: number): Promise<boolean>;
}

export interface ManagedController {
  controller: Controller;
  /** run only while this replica leads; default true */
  leaderOnly?: boolean;
}

export interface ManagerOptions {
  log: Logger;
  caches: Cache[];
  controllers: ManagedController[];
  /** omitted: this replica always leads (single-replica deployments, tests) */
  leaderElection?: Omit<LeaderElectorOptions, 'log' | 'onStartedLeading' | 'onStoppedLeading'>;
  /** port for /healthz and /readyz; 0 picks a free one; omitted: no server */
  healthPort?: number;
  /** default 0.0.0.0 (the kubelet probes the pod IP) */
  healthHost?: string;
  /** start() fails if caches are not synced by then; default 120 s */
  syncTimeoutMs?: number;
  /** per controller, on stop or lost leadership; default 30 s (a Pod's default grace period) */
  drainTimeoutMs?: number;
  /** served as GET /metrics on the health server (Prometheus text format) */
  metrics?: { contentType: string; render(): Promise<string> };
  /** called after every reconcile of every controller (metrics) */
  onReconcile?: (r: { controller: string; durationMs: number; error?: unknown }) => void;
}

export interface Readiness {
  ready: boolean;
  reasons: string[];
  leader?: string;
}

export class Manager {
  private readonly log: Logger;
  private readonly elector: LeaderElector | undefined;
  private server: Server | undefined;
  private phase: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  /** leader-only controller starts and stops, in order: a new term waits for the last one's drain */
  private leaderTransitions: Promise<void> = Promise.resolve();
  private signalsInstalled = false;

  constructor(private readonly opts: ManagerOptions) {
    this.log = opts.log.child({ component: 'manager' });
    this.elector = opts.leaderElection
      ? new LeaderElector({
          ...opts.leaderElection,
          log: opts.log,
          onStartedLeading: () => this.transition(() => this.startLeaderOnly()),
          onStoppedLeading: () => this.transition(() => this.stopLeaderOnly()),
        })
      : undefined;
    if (opts.onReconcile) for (const m of opts.controllers) m.controller.observeReconciles(opts.onReconcile);
  }

  /** Queue depth and keys waiting for a retry or requeue of every controller (zeros while stopped), for metrics. */
  controllerStats(): { name: string; depth: number; delayed: number }[] {
    return this.opts.controllers.map((m) => ({ name: m.controller.name, ...m.controller.stats() }));
  }

  /** The elector, for components that must check isLeader() before each write (the allocator). */
  get leaderElector(): LeaderElector | undefined {
    return this.elector;
  }

  /** The bound health port (useful with healthPort 0). */
  healthPort(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async start(): Promise<void> {
    if (this.phase !== 'new') throw new Error(`manager cannot start: it is ${this.phase}`);
    this.phase = 'starting';
    if (this.opts.healthPort !== undefined) await this.listen(this.opts.healthPort);
    for (const c of this.opts.caches) c.start();
    const syncTimeoutMs = this.opts.syncTimeoutMs ?? 120_000;
    const synced = await Promise.all(this.opts.caches.map((c) => c.waitForSync(syncTimeoutMs)));
    if (synced.includes(false)) {
      const pending = synced.filter((s) => !s).length;
      await this.stop();
      throw new Error(`manager: ${pending} of ${synced.length} caches not synced within ${syncTimeoutMs} ms`);
    }
    for (const m of this.opts.controllers) if (!this.isLeaderOnly(m)) m.controller.start();
    this.phase = 'running';
    if (this.elector) this.elector.start();
    else {
      this.transition(() => this.startLeaderOnly());
      await this.leaderTransitions;
    }
    this.log.info('manager started', { caches: this.opts.caches.length, controllers: this.opts.controllers.length, leaderElection: !!this.elector });
  }

  async stop(): Promise<void> {
    if (this.phase === 'stopping' || this.phase === 'stopped') return;
    this.phase = 'stopping';
    this.log.info('manager stopping');
    // Drain leader-only work while still holding the Lease, then release it: the successor starts
    // only after our last write, and at once instead of after leaseDuration.
    this.transition(() => this.stopLeaderOnly());
    await this.leaderTransitions;
    if (this.elector) await this.elector.stop();
    await this.leaderTransitions;
    const drainMs = this.opts.drainTimeoutMs ?? 30_000;
    await Promise.all(this.opts.controllers.filter((m) => !this.isLeaderOnly(m)).map((m) => m.controller.stop(drainMs)));
    await Promise.all(this.opts.caches.map((c) => c.stop()));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.phase = 'stopped';
    this.log.info('manager stopped');
  }

  /**
   * On the first SIGTERM or SIGINT, stops gracefully and resolves with the signal's name; a second
   * signal exits at once (an operator that hangs in drain must still be killable with ^C ^C).
   */
  stopOnSignals(): Promise<NodeJS.Signals> {
    if (this.signalsInstalled) throw new Error('manager: signal handlers already installed');
    this.signalsInstalled = true;
    return new Promise((resolve, reject) => {
      let received: NodeJS.Signals | undefined;
      const onSignal = (sig: NodeJS.Signals) => {
        if (received) {
          this.log.warn('second signal: exiting without draining', { signal: sig });
          process.exit(1);
        }
        received = sig;
        this.log.info('signal received: draining', { signal: sig });
        this.stop().then(() => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          resolve(sig);
        }, reject);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
  }

  readiness(): Readiness {
    const reasons: string[] = [];
    if (this.phase !== 'running') reasons.push(`manager ${this.phase}`);
    const unsynced = this.opts.caches.filter((c) => !c.hasSynced()).length;
    if (unsynced > 0) reasons.push(`${unsynced} caches not synced`);
    const leader = this.elector?.leader();
    if (this.elector && !this.elector.isLeader()) {
      const problem = this.elector.followerProblem();
      if (problem) reasons.push(`follower unhealthy: ${problem}`);
    }
    return { ready: reasons.length === 0, reasons, ...(leader ? { leader } : {}) };
  }

  liveness(): { ok: boolean; reason?: string } {
    const problem = this.elector?.leaderProblem();
    return problem ? { ok: false, reason: problem } : { ok: true };
  }

  private isLeaderOnly(m: ManagedController): boolean {
    return m.leaderOnly ?? true;
  }

  private transition(step: () => Promise<void> | void): void {
    this.leaderTransitions = this.leaderTransitions.then(step).catch((error: unknown) => {
      this.log.error('leader-only controllers transition failed', { error });
    });
  }

  private startLeaderOnly(): void {
    if (this.phase === 'stopping' || this.phase === 'stopped') return;
    for (const m of this.opts.controllers) if (this.isLeaderOnly(m)) m.controller.start();
  }

  private async stopLeaderOnly(): Promise<void> {
    const drainMs = this.opts.drainTimeoutMs ?? 30_000;
    await Promise.all(this.opts.controllers.filter((m) => this.isLeaderOnly(m)).map((m) => m.controller.stop(drainMs)));
  }

  private listen(port: number): Promise<void> {
    const server = createServer((req, res) => this.serve(req, res));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.opts.healthHost ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const metrics = this.opts.metrics;
    if (path === '/metrics' && metrics) {
      metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (error: unknown) => {
          this.log.error('rendering /metrics failed', { error });
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
        },
      );
      return;
    }
    let status = 404;
    let body: unknown = { error: 'not found' };
    if (path === '/healthz') {
      const l = this.liveness();
      status = l.ok ? 200 : 500;
      body = l;
    } else if (path === '/readyz') {
      const r = this.readiness();
      status = r.ready ? 200 : 503;
      body = r;
    }
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}
