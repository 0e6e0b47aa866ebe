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
import { V1MicroTime } from '@kubernetes/client-node';
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
  /** the Lease as last read or written: the leader's renew writes it back without reading first */
  private observedLease: V1Lease | undefined;
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
      // Leader: renew every retryPeriod counted from when the last attempt was SENT (a renew that
      // took longer than that is followed at once, not after another retryPeriod: renewDeadline is
      // measured from the send time too, so idling after a slow answer only eats the margin); give
      // up once renewDeadline passed without a success.
      while (!stop.aborted && this.leading) {
        await sleep(Math.max(0, this.retryMs - (performance.now() - this.lastAttemptAt)), stop);
        if (stop.aborted) break;
        const left = this.renewDeadlineMs - (performance.now() - this.lastRenewAt);
        if (left > 0 && (await this.attempt(left))) continue;
        if (performance.now() - this.lastRenewAt >= this.renewDeadlineMs) {
          this.stepDown(`failed to renew within renewDeadline (${this.renewDeadlineMs} ms)`);
        }
      }
    }
  }

  /** One tryAcquireOrRenew bounded by timeoutMs; errors are logged and count as "not acquired". */
  private async attempt(timeoutMs: number): Promise<boolean> {
    const sentAt = performance.now();
    this.lastAttemptAt = sentAt;
    const leading = this.leading !== undefined;
    this.steps = {};
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => {
        timedOut = true;
        resolve(false);
      }, timeoutMs);
    });
    let ok = false;
    try {
      ok = await Promise.race([this.tryAcquireOrRenew(), timeout]);
      if (ok) this.lastRenewAt = sentAt;
      return ok;
    } catch (error) {
      this.log.warn('lease acquire/renew failed', { error: describe(error), leading });
      return false;
    } finally {
      clearTimeout(timer);
      this.reportSlow(leading, ok, timedOut, performance.now() - sentAt);
    }
  }

  /**
   * A leader's renew that failed or took over half a retry period is logged with what it waited
   * for: each API request's duration and the event-loop delay since the last report. A long request
   * with a small loop delay is the apiserver (or the connection); a large loop delay is this process.
   */
  private reportSlow(leading: boolean, ok: boolean, timedOut: boolean, ms: number): void {
    const h = this.loopDelay;
    if (!leading || (ok && ms < this.retryMs / 2)) {
      if (ok) h?.reset();
      return;
    }
    const loop = h && h.count > 0 ? { p50Ms: round(h.percentile(50) / 1e6), p99Ms: round(h.percentile(99) / 1e6), maxMs: round(h.max / 1e6) } : undefined;
    this.log.warn('lease renew slow', { ok, timedOut, ms: round(ms), requestsMs: this.steps, eventLoopDelay: loop, sinceLastRenewMs: round(performance.now() - this.lastRenewAt) });
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

    // Fast path (client-go's): the leader renews with one conditional write of the Lease it last
    // saw instead of a read and a write — half the round trips on a loaded apiserver. Someone else
    // wrote it since (409): fall through to the read.
    const mine = this.observedLease;
    if (this.leading && mine?.spec?.holderIdentity === identity && mine.metadata?.resourceVersion) {
      try {
        const renewed = await this.step('renew', coordination.replaceNamespacedLease({ name, namespace, body: { ...mine, spec: { ...mine.spec, ...spec(mine.spec) } } }));
        this.observe(renewed);
        return true;
      } catch (error) {
        if (httpCode(error) !== 409) throw error;
      }
    }

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
    this.observedLease = lease;
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
