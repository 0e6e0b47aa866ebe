// Lease-based leader election on coordination.k8s.io/v1, client-go's algorithm
// (tools/leaderelection): candidates poll the Lease every retryPeriod; a Lease whose holder has not
// renewed it for leaseDuration — measured on OUR clock from when we last saw it change, so clock skew
// between replicas does not matter — may be taken over. Every write is a compare-and-swap on
// metadata.resourceVersion, so two candidates can never both win one round.
//
// Safety margin: a leader that has not renewed within renewDeadline (< leaseDuration) steps down and
// aborts the signal it gave onStartedLeading, before any follower may take over. isLeader() applies
// the same deadline on every call, so a leader whose renew loop is stuck (a hung request, a blocked
// event loop) stops claiming leadership even before the loop notices. Work that must never run in two
// replicas (allocation) checks isLeader() and still guards its own writes with resourceVersion.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PatchStrategy, V1MicroTime, setHeaderOptions } from '@kubernetes/client-node';
import type { CoordinationV1Api, V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
import type { Logger } from './logger.js';

export interface LeaderCallbacks {
  /** we lead; signal aborts when we stop leading (the work it started must stop) */
  onStartedLeading?(signal: AbortSignal): void;
  /** we stopped leading: renew failed past renewDeadline, lost the Lease, or stop() */
  onStoppedLeading?(): void;
  /** the observed holder changed (our own identity included); undefined when the Lease was released */
  onNewLeader?(identity: string | undefined): void;
}

export interface LeaderElectorOptions extends LeaderCallbacks {
  coordination: CoordinationV1Api;
  namespace: string;
  name: string;
  /** unique per replica, e.g. the pod name */
  identity: string;
  /** how long a Lease is valid without renewal; default 15 s */
  leaseDurationMs?: number;
  /** the leader gives up if it could not renew for this long; default 10 s */
  renewDeadlineMs?: number;
  /** interval between attempts; default 2 s */
  retryPeriodMs?: number;
  /** on stop(), clear the holder so a successor takes over at once; default true */
  releaseOnStop?: boolean;
  log: Logger;
}

/** client-go's JitterFactor: candidates wait retryPeriod × [1, 1.2) so they do not poll in lockstep. */
const JITTER = 1.2;
/** renews out at once at most (a renew every retryPeriod: 5 covers a 10 s deadline at 2 s) */
const MAX_RENEWS_IN_FLIGHT = 5;

export class LeaderElector {
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly log: Logger;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private stopController: AbortController | undefined;
  private leading: AbortController | undefined;
  /** monotonic time at which the last successful acquire/renew request was SENT */
  private lastRenewAt = 0;
  /** monotonic time at which the last attempt (successful or not) was sent: the renew cadence */
  private lastAttemptAt = 0;
  private observedRv: string | undefined;
  /** monotonic time we last saw the Lease change; the basis of expiry (not the Lease's renewTime) */
  private observedAt = 0;
  private observedHolder: string | undefined;
  /** renew patches sent and not answered yet (they may overlap on a slow apiserver) */
  private renewsInFlight = 0;
  private readonly renewing = new Set<Promise<void>>();
  /** a renew's condition failed: the next attempt reads the Lease and writes it with a CAS */
  private needsRead = false;
  /**
   * The apiserver refused the renew patch with 403: RBAC without `patch` on leases (an upgrade whose
   * Role is still the old one). Renew with read + update from then on, or the leader would step down
   * at every renew deadline and take the Lease again.
   */
  private patchForbidden = false;
  /** monotonic time of the last successful read or write of the Lease */
  private lastContactAt = 0;
  /** event-loop delay since the last renew: tells a slow apiserver from a starved process in the logs */
  private loopDelay: ReturnType<typeof monitorEventLoopDelay> | undefined;
  /** per-request durations of the attempt in flight (read / write), for the slow-renew log */
  private steps: Record<string, number> = {};

  constructor(private readonly opts: LeaderElectorOptions) {
    this.leaseMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
    if (this.leaseMs <= this.renewDeadlineMs) {
      throw new Error(`leader election: leaseDuration (${this.leaseMs} ms) must exceed renewDeadline (${this.renewDeadlineMs} ms)`);
    }
    if (this.renewDeadlineMs <= JITTER * this.retryMs) {
      throw new Error(`leader election: renewDeadline (${this.renewDeadlineMs} ms) must exceed ${JITTER} × retryPeriod (${this.retryMs} ms)`);
    }
    this.log = opts.log.child({ component: 'leader-election', lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
  }

  get identity(): string {
    return this.opts.identity;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.stopController = new AbortController();
    this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
    this.loopDelay.enable();
    this.loop = this.run(this.stopController.signal);
  }

  /**
   * Stops campaigning. A leader releases the Lease (unless release is false: the crash-like exit,
   * after which successors wait for the Lease to expire) and then onStoppedLeading fires.
   */
  async stop({ release = this.opts.releaseOnStop ?? true }: { release?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopController?.abort();
    await this.loop;
    this.loopDelay?.disable();
    if (!this.leading) return;
    // Step down (abort the work's signal) before releasing, so the successor never overlaps us.
    this.stepDown('stopped');
    if (release) await this.release();
  }

  /** True only while leading and within renewDeadline of the last successful renew. */
  isLeader(): boolean {
    return this.leading !== undefined && performance.now() - this.lastRenewAt < this.renewDeadlineMs;
  }

  /** The holder we last observed (ours included); undefined before the first read or after a release. */
  leader(): string | undefined {
    return this.observedHolder;
  }

  /**
   * Liveness (client-go's HealthzAdaptor): a replica that still holds a leadership term but has not
   * renewed for leaseDuration is stuck. Returns the problem, or undefined.
   */
  leaderProblem(): string | undefined {
    const since = performance.now() - this.lastRenewAt;
    return this.leading && since > this.leaseMs ? `leader has not renewed the lease for ${Math.round(since)} ms` : undefined;
  }

  /** Readiness of a follower: it reached the Lease within leaseDuration, so it knows who leads. */
  followerProblem(): string | undefined {
    if (this.stopped) return 'leader election not running';
    const since = performance.now() - this.lastContactAt;
    return since > this.leaseMs ? `lease not reachable for ${Math.round(since)} ms` : undefined;
  }

  private async run(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      // Candidate: try every retryPeriod (jittered) until we hold the Lease.
      if (!(await this.attempt(this.renewDeadlineMs))) {
        await sleep(this.retryMs * (1 + Math.random() * (JITTER - 1)), stop);
        continue;
      }
      this.startLeading();
      const term = this.leading!;
      this.needsRead = false;
      // Leader: a renew every retryPeriod, counted from the last send and NOT waiting for the last
      // answer — each renew is a JSON patch conditional on us still being the holder (no
      // resourceVersion), so renews may overlap: on an apiserver that takes 5 s per write a success
      // still lands every retryPeriod, each counting from when it was sent. Give up once
      // renewDeadline passed since the send of the last successful renew.
      while (!stop.aborted && this.leading === term) {
        const sinceRenew = performance.now() - this.lastRenewAt;
        if (sinceRenew >= this.renewDeadlineMs) {
          this.stepDown(`failed to renew within renewDeadline (${this.renewDeadlineMs} ms)`);
          break;
        }
        const untilNext = this.retryMs - (performance.now() - this.lastAttemptAt);
        if (untilNext > 0) {
          await sleep(Math.min(untilNext, this.renewDeadlineMs - sinceRenew), stop);
          continue;
        }
        if (this.needsRead || this.patchForbidden) {
          // A renew's condition failed (someone else holds it, or it is gone): read, then CAS.
          await this.attempt(this.renewDeadlineMs - sinceRenew);
        } else if (this.renewsInFlight < MAX_RENEWS_IN_FLIGHT) {
          this.renewInBackground(term);
        } else {
          this.lastAttemptAt = performance.now(); // the slow ones are still out: skip this beat
        }
      }
    }
    await this.settleRenews();
  }

  /**
   * One renew of a Lease we hold: a JSON patch that tests holderIdentity (so it can never overwrite
   * another holder) and moves renewTime. Its success counts from when it was SENT: the write landed
   * after that, and followers wait leaseDuration from when they see it change.
   */
  private renewInBackground(term: AbortController): void {
    const { coordination, namespace, name, identity } = this.opts;
    const sentAt = performance.now();
    this.lastAttemptAt = sentAt;
    this.renewsInFlight++;
    const patch = [
      { op: 'test', path: '/spec/holderIdentity', value: identity },
      { op: 'replace', path: '/spec/renewTime', value: new V1MicroTime().toISOString() },
      { op: 'replace', path: '/spec/leaseDurationSeconds', value: Math.ceil(this.leaseMs / 1000) },
    ];
    const done = coordination
      .patchNamespacedLease({ name, namespace, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch))
      .then(
        (lease) => {
          if (this.leading !== term) return;
          this.lastRenewAt = Math.max(this.lastRenewAt, sentAt);
          this.observe(lease);
          this.reportSlow(true, performance.now() - sentAt, { renew: round(performance.now() - sentAt) });
        },
        (error: unknown) => {
          const code = httpCode(error);
          // 422: the test failed (another holder); 404: the Lease is gone; 409: lost an internal race.
          if (code === 422 || code === 404 || code === 409) this.needsRead = true;
          if (code === 403 && !this.patchForbidden) {
            this.patchForbidden = true;
            this.log.warn('lease patch forbidden: renewing with read + update; grant "patch" on leases (config/rbac/operator_role.yaml)', { error: describe(error) });
          }
          if (this.leading === term) {
            this.log.warn('lease renew failed', { error: describe(error), ms: round(performance.now() - sentAt) });
            this.reportSlow(false, performance.now() - sentAt, { renew: round(performance.now() - sentAt) });
          }
        },
      )
      .finally(() => {
        this.renewsInFlight--;
        this.renewing.delete(done);
      });
    this.renewing.add(done);
  }

  /** stop(): renews still out must land (or fail) before the Lease is released, or they race the release. */
  private async settleRenews(): Promise<void> {
    if (this.renewing.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.renewing]), new Promise<void>((r) => (timer = setTimeout(r, this.renewDeadlineMs)))]);
    clearTimeout(timer);
  }

  /** One tryAcquireOrRenew (read, then a CAS write) bounded by timeoutMs; errors are logged and count as "not acquired". */
  private async attempt(timeoutMs: number): Promise<boolean> {
    const sentAt = performance.now();
    this.lastAttemptAt = sentAt;
    const leading = this.leading !== undefined;
    this.steps = {};
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    let ok = false;
    try {
      ok = await Promise.race([this.tryAcquireOrRenew(), timeout]);
      if (ok) {
        this.lastRenewAt = sentAt;
        this.needsRead = false;
      }
      return ok;
    } catch (error) {
      this.log.warn('lease acquire/renew failed', { error: describe(error), leading });
      return false;
    } finally {
      clearTimeout(timer);
      if (leading) this.reportSlow(ok, performance.now() - sentAt, this.steps);
    }
  }

  /**
   * A leader's renew that failed or took over half a retry period is logged with what it waited
   * for: each API request's duration and the event-loop delay since the last report. A long request
   * with a small loop delay is the apiserver (or the connection); a large loop delay is this process.
   */
  private reportSlow(ok: boolean, ms: number, requestsMs: Record<string, number>): void {
    const h = this.loopDelay;
    if (ok && ms < this.retryMs / 2) {
      h?.reset();
      return;
    }
    const loop = h && h.count > 0 ? { p50Ms: round(h.percentile(50) / 1e6), p99Ms: round(h.percentile(99) / 1e6), maxMs: round(h.max / 1e6) } : undefined;
    this.log.warn('lease renew slow', { ok, ms: round(ms), requestsMs, eventLoopDelay: loop, sinceLastRenewSentMs: round(performance.now() - this.lastRenewAt), renewsInFlight: this.renewsInFlight });
    h?.reset();
  }

  /** Times one API request of the attempt in flight. */
  private async step<T>(name: string, call: Promise<T>): Promise<T> {
    const at = performance.now();
    try {
      return await call;
    } finally {
      this.steps[name] = round(performance.now() - at);
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { coordination, namespace, name, identity } = this.opts;
    const now = new V1MicroTime();
    const spec = (prev?: V1LeaseSpec): V1LeaseSpec => {
      const renewing = prev?.holderIdentity === identity;
      return {
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(this.leaseMs / 1000),
        acquireTime: renewing && prev?.acquireTime ? new V1MicroTime(prev.acquireTime) : now,
        renewTime: now,
        leaseTransitions: renewing ? (prev?.leaseTransitions ?? 0) : (prev?.leaseTransitions ?? -1) + 1,
      };
    };

    let lease: V1Lease;
    try {
      lease = await this.step('read', coordination.readNamespacedLease({ name, namespace }));
    } catch (error) {
      if (httpCode(error) !== 404) throw error;
      try {
        const created = await coordination.createNamespacedLease({
          namespace,
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: spec() },
        });
        this.observe(created);
        return true;
      } catch (createError) {
        if (httpCode(createError) === 409) return false; // another candidate created it first
        throw createError;
      }
    }

    this.observe(lease);
    const holder = lease.spec?.holderIdentity || undefined;
    const validMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (holder && holder !== identity && performance.now() - this.observedAt < validMs) return false;

    // Free, expired, or ours: write ourselves in, conditional on the version we read.
    try {
      const updated = await this.step(
        'write',
        coordination.replaceNamespacedLease({
          name,
          namespace,
          body: { ...lease, spec: { ...lease.spec, ...spec(lease.spec) } },
        }),
      );
      this.observe(updated);
      return true;
    } catch (error) {
      if (httpCode(error) === 409) return false; // someone wrote it since our read
      throw error;
    }
  }

  private observe(lease: V1Lease): void {
    this.lastContactAt = performance.now();
    const rv = lease.metadata?.resourceVersion;
    if (rv !== this.observedRv) {
      this.observedRv = rv;
      this.observedAt = performance.now();
    }
    const holder = lease.spec?.holderIdentity || undefined;
    if (holder !== this.observedHolder) {
      this.observedHolder = holder;
      this.log.info('new leader observed', { leader: holder ?? null });
      this.callback('onNewLeader', () => this.opts.onNewLeader?.(holder));
    }
  }

  private startLeading(): void {
    this.leading = new AbortController();
    this.log.info('started leading');
    const signal = this.leading.signal;
    this.callback('onStartedLeading', () => this.opts.onStartedLeading?.(signal));
  }

  private stepDown(reason: string): void {
    const leading = this.leading;
    if (!leading) return;
    this.leading = undefined;
    leading.abort(new Error(`leadership lost: ${reason}`));
    this.log.warn('stopped leading', { reason });
    this.callback('onStoppedLeading', () => this.opts.onStoppedLeading?.());
  }

  /** client-go's release: empty holder, 1 s duration, so candidates take over on their next poll. */
  private async release(): Promise<void> {
    const { coordination, namespace, name, identity } = this.opts;
    try {
      const lease = await coordination.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== identity) return;
      const now = new V1MicroTime();
      await coordination.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...lease,
          spec: { leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.spec.leaseTransitions ?? 0 },
        },
      });
      this.observedHolder = undefined;
      this.log.info('released lease');
    } catch (error) {
      // Not fatal: successors take over when the Lease expires.
      this.log.warn('lease release failed', { error: describe(error) });
    }
  }

  private callback(name: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.log.error('leader election callback threw', { callback: name, error: describe(error) });
    }
  }
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function httpCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** ApiException carries the server's Status as raw JSON in .body: keep its message, not the dump. */
function describe(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  const code = httpCode(err);
  if (code !== undefined) out.code = code;
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: string; reason?: string };
      out.message = `${status.reason ?? ''}: ${status.message ?? ''}`;
    } catch {
      // not JSON: keep the exception's own message
    }
  }
  return out;
}
