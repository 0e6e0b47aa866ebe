// Time to exhaustion of a pool, from the recent net allocation rate.
//
// The rate is an exponentially weighted moving average of d(allocated)/dt, fed with the pool's
// allocated count whenever /metrics is scraped (no timer: nobody reads it between scrapes). The
// weight of each interval is 1 - e^(-dt/tau), so irregular scrapes (two Prometheus replicas, a
// missed scrape) give the same estimate as regular ones, as the kernel's load average does.
//
// Net, not gross: a rolling update allocates and frees at the same pace and drains nothing; only the
// balance brings the pool closer to empty. Not draining (rate <= 0) is reported as +Inf rather than
// leaving the series out: the series is always there for a pool, so `< 4 * 3600` alert expressions
// stay false instead of turning into "no data", and a dashboard shows "never" (Infinity).
export interface DrainSample {
  /** net IPs per second, weighted towards the last tau seconds */
  ratePerSecond: number;
  /** free / rate; 0 when nothing is free; +Inf when the pool is not draining */
  secondsToExhaustion: number;
}

export class DrainRateEstimator {
  private last: { atMs: number; allocated: number } | undefined;
  private rate = 0;

  /** tauSeconds: the time constant; an interval that far back weighs 1/e of a fresh one. */
  constructor(private readonly tauSeconds = 300) {
    if (!(tauSeconds > 0)) throw new RangeError(`tauSeconds must be > 0, got ${tauSeconds}`);
  }

  /** Feeds the pool's allocated count at atMs and returns the estimate with `free` addresses left. */
  sample(atMs: number, allocated: number, free: number): DrainSample {
    const last = this.last;
    if (last !== undefined && atMs > last.atMs) {
      const dt = (atMs - last.atMs) / 1000;
      const instant = (allocated - last.allocated) / dt;
      this.rate += (1 - Math.exp(-dt / this.tauSeconds)) * (instant - this.rate);
    }
    if (last === undefined || atMs > last.atMs) this.last = { atMs, allocated };
    return { ratePerSecond: this.rate, secondsToExhaustion: exhaustion(free, this.rate) };
  }
}

export function exhaustion(free: number, ratePerSecond: number): number {
  if (free <= 0) return 0;
  return ratePerSecond > 0 ? free / ratePerSecond : Number.POSITIVE_INFINITY;
}
