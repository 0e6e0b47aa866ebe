// The time-to-exhaustion estimate: net rate, time-weighted EWMA, 0 when empty, +Inf when not draining.
import { DrainRateEstimator, exhaustion } from '../../src/metrics/drain-rate.js';

describe('DrainRateEstimator', () => {
  test('the first sample has no rate: not draining (+Inf), unless nothing is free (0)', () => {
    expect(new DrainRateEstimator().sample(0, 10, 90)).toEqual({ ratePerSecond: 0, secondsToExhaustion: Number.POSITIVE_INFINITY });
    expect(new DrainRateEstimator().sample(0, 100, 0).secondsToExhaustion).toBe(0);
  });

  test('a steady net drain converges on its rate, and the estimate on free / rate', () => {
    const e = new DrainRateEstimator(60);
    let allocated = 0;
    let s = e.sample(0, allocated, 100_000);
    for (let t = 1; t <= 600; t++) s = e.sample(t * 1000, (allocated += 2), 100_000 - allocated);
    // After 10 time constants the EWMA is within e^-10 of the true 2 IPs/s.
    expect(s.ratePerSecond).toBeCloseTo(2, 3);
    expect(s.secondsToExhaustion).toBeCloseTo((100_000 - 1200) / 2, -1);
  });

  test('irregular sampling gives the same estimate as regular sampling of the same history', () => {
    const regular = new DrainRateEstimator(100);
    const irregular = new DrainRateEstimator(100);
    // 1 IP/s for 200 s; one estimator sampled every second, the other at uneven times.
    let r = regular.sample(0, 0, 1000);
    for (let t = 1; t <= 200; t++) r = regular.sample(t * 1000, t, 1000 - t);
    let i = irregular.sample(0, 0, 1000);
    for (const t of [3, 4, 50, 51, 52, 120, 199, 200]) i = irregular.sample(t * 1000, t, 1000 - t);
    expect(i.ratePerSecond).toBeCloseTo(r.ratePerSecond, 6);
  });

  test('allocations balanced by releases (a rolling update) do not drain; a refilling pool is not draining', () => {
    const e = new DrainRateEstimator(30);
    let s = e.sample(0, 50, 50);
    for (let t = 1; t <= 100; t++) s = e.sample(t * 1000, 50, 50);
    expect(s.secondsToExhaustion).toBe(Number.POSITIVE_INFINITY);
    for (let t = 101; t <= 130; t++) s = e.sample(t * 1000, 50 - (t - 100), t - 50);
    expect(s.ratePerSecond).toBeLessThan(0);
    expect(s.secondsToExhaustion).toBe(Number.POSITIVE_INFINITY);
  });

  test('a burst is remembered and fades with the time constant', () => {
    const e = new DrainRateEstimator(300);
    e.sample(0, 0, 100);
    const burst = e.sample(1000, 30, 70);
    expect(burst.ratePerSecond).toBeGreaterThan(0);
    expect(Number.isFinite(burst.secondsToExhaustion)).toBe(true);
    const later = e.sample(301_000, 30, 70);
    expect(later.ratePerSecond).toBeCloseTo(burst.ratePerSecond / Math.E, 6);
  });

  test('a repeated or older timestamp does not move the rate', () => {
    const e = new DrainRateEstimator(10);
    e.sample(0, 0, 10);
    const a = e.sample(1000, 5, 5);
    expect(e.sample(1000, 9, 1).ratePerSecond).toBe(a.ratePerSecond);
    expect(e.sample(500, 0, 10).ratePerSecond).toBe(a.ratePerSecond);
  });

  test('exhaustion() and the tau guard', () => {
    expect(exhaustion(10, 2)).toBe(5);
    expect(exhaustion(10, 0)).toBe(Number.POSITIVE_INFINITY);
    expect(exhaustion(0, 5)).toBe(0);
    expect(() => new DrainRateEstimator(0)).toThrow(/tauSeconds/);
  });
});
