// Counters and latency samples of one simulator process; summary() is what SIGUSR1 / exit print.
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i]! * 10) / 10;
}

function dist(samples: number[]): Record<string, number | null> {
  const s = [...samples].sort((a, b) => a - b);
  return {
    count: s.length,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.length ? Math.round(s[s.length - 1]! * 10) / 10 : null,
  };
}

export class Metrics {
  readonly startedAt = Date.now();
  private readonly addMs: number[] = [];
  private readonly delMs: number[] = [];
  private readonly setupMs: number[] = [];
  podsSetUp = 0;
  addFailures = 0;
  delFailures = 0;
  /** --fail-del-percent: DELs answered with an injected error (counted in delFailures too) / of those, lost. */
  delInjected = 0;
  delLost = 0;
  syncFailures = 0;
  podsFinalized = 0;
  deadSandboxesReleased = 0;
  staleNetnsRemoved = 0;
  statusPatches = 0;
  events = 0;
  firstRunningAt: number | undefined;
  lastRunningAt: number | undefined;

  observeAdd(ms: number): void {
    this.addMs.push(ms);
  }
  observeDel(ms: number): void {
    this.delMs.push(ms);
  }
  observeSetup(ms: number): void {
    this.setupMs.push(ms);
  }
  /** Starts a new measurement window (SIGUSR2: a benchmark phase boundary): samples and counters cleared. */
  reset(): void {
    this.addMs.length = 0;
    this.delMs.length = 0;
    this.setupMs.length = 0;
    this.podsSetUp = this.addFailures = this.delFailures = this.syncFailures = this.podsFinalized = 0;
    this.delInjected = this.delLost = 0;
    this.deadSandboxesReleased = this.staleNetnsRemoved = this.statusPatches = this.events = 0;
    this.firstRunningAt = this.lastRunningAt = undefined;
  }

  markRunning(): void {
    const now = Date.now();
    this.firstRunningAt ??= now;
    this.lastRunningAt = now;
  }

  summary(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      ...extra,
      uptimeSec: Math.round((Date.now() - this.startedAt) / 100) / 10,
      podsSetUp: this.podsSetUp,
      podsFinalized: this.podsFinalized,
      addFailures: this.addFailures,
      delFailures: this.delFailures,
      delInjected: this.delInjected,
      delLost: this.delLost,
      syncFailures: this.syncFailures,
      deadSandboxesReleased: this.deadSandboxesReleased,
      staleNetnsRemoved: this.staleNetnsRemoved,
      statusPatches: this.statusPatches,
      events: this.events,
      cniAddMs: dist(this.addMs),
      cniDelMs: dist(this.delMs),
      sandboxSetupMs: dist(this.setupMs),
      firstRunningAt: this.firstRunningAt ? new Date(this.firstRunningAt).toISOString() : null,
      lastRunningAt: this.lastRunningAt ? new Date(this.lastRunningAt).toISOString() : null,
    };
  }
}
