// The chaos suite (tests/chaos, docs/reliability.md), CI-sized: every scenario once with small pod
// counts, on the suite's own control plane instance (its own state dir and ports: restarting its
// apiserver and etcd never disturbs the shared cluster the other tests use), torn down at the end.
// Each run must pass: the scenario's own expectations, then the invariants (unique live pod IPs,
// every record owned by a live pod, every Running pod recorded, `ipam check` zero findings, the
// expected pods Running) within the settle bound.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '../../chaos/runner.js';
import { SCENARIOS } from '../../chaos/scenarios/index.js';
import { runSuite } from '../../chaos/suite.js';
import { markdown } from '../../chaos/report.js';

const SETTLE_BOUND_MS = 120_000;
const results = new Map<string, RunResult>();
const outDir = mkdtempSync(join(tmpdir(), 'spts-chaos-ci-'));

beforeAll(async () => {
  const suite = runSuite({
    scenarios: SCENARIOS,
    repeat: 1,
    ci: true,
    settleBoundMs: SETTLE_BOUND_MS,
    // Not the CLI's defaults (/tmp/spiderpool-ts-chaos, 24790..): `npm run chaos` may run beside.
    clusterDir: '/tmp/spiderpool-ts-chaos-ci',
    portBase: 25790,
    outDir,
    command: 'jest tests/integration/chaos/chaos.test.ts',
    say: (msg, extra = {}) => process.stderr.write(`[chaos-ci ${new Date().toISOString().slice(11, 19)}] ${msg}${Object.keys(extra).length ? ' ' + JSON.stringify(extra) : ''}\n`),
  });
  for (const r of await suite.done) results.set(r.scenario, r);
  process.stderr.write(`\n${markdown([...results.values()], 'jest tests/integration/chaos/chaos.test.ts', SETTLE_BOUND_MS / 1000)}\nlogs: ${outDir}\n`);
}, 20 * 60_000);

describe('chaos suite, CI size (one run per scenario)', () => {
  test.each(SCENARIOS.map((s) => [s.name]))('%s: passes, invariants hold within the settle bound', (name) => {
    const r = results.get(name);
    expect(r).toBeDefined();
    expect({ scenario: name, error: r!.error }).toEqual({ scenario: name, error: undefined });
    expect(r!.ok).toBe(true);
    expect(r!.invariants).toMatchObject({ ok: true, findings: 0, duplicateLiveIPs: 0, recordsWithoutLivePod: 0, runningWithoutRecord: 0 });
    expect(r!.settleSec).not.toBeNull();
    expect(r!.settleSec!).toBeLessThanOrEqual(SETTLE_BOUND_MS / 1000);
  });
});
