// The alert rules with the real promtool (Debian's prometheus package, installed by
// hack/controlplane/install-deps.sh): rules.yaml is what prometheusrule.yaml says, promtool accepts
// it, `promtool test rules` passes, and every rule reads only metrics the operator registers.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { paths } from '../../src/metrics/gen/files.js';
import { renderRulesFile, ruleGroupsOf } from '../../src/metrics/gen/rules.js';
import { metricNames, registeredSeriesNames } from './promql-names.js';

function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`promtool ${args[0]}: ${r.error.message} (install it: hack/controlplane/install-deps.sh installs Debian's prometheus package)`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('Prometheus alert rules', () => {
  const source = readFileSync(paths.prometheusRule, 'utf8');

  test('rules.yaml is generated from prometheusrule.yaml (npm run metrics:gen)', () => {
    expect(readFileSync(paths.rules, 'utf8')).toBe(renderRulesFile(source));
  });

  test('promtool check rules accepts them', () => {
    const r = promtool('check', 'rules', paths.rules);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  test('promtool test rules passes rules.test.yaml', () => {
    const r = promtool('test', 'rules', paths.rulesTest);
    if (r.status !== 0) throw new Error(`promtool test rules failed:\n${r.output}`);
    expect(r.output).toContain('SUCCESS');
  });

  test('every alert of the issue is there, tested, and reads registered metrics only', async () => {
    const groups = ruleGroupsOf(source);
    const alerts = groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alerts).toEqual(
      expect.arrayContaining(['SpiderpoolIPPoolNearlyExhausted', 'SpiderpoolIPPoolExhaustionForecast', 'SpiderpoolIPAllocationFailures', 'SpiderpoolGCBacklog', 'SpiderpoolNoLeader']),
    );
    const tests = readFileSync(paths.rulesTest, 'utf8');
    for (const a of alerts) expect({ alert: a, tested: tests.includes(`alertname: ${a}\n`) }).toEqual({ alert: a, tested: true });
    const registered = await registeredSeriesNames();
    const unknown = groups.flatMap((g) => g.rules.flatMap((r) => metricNames(r.expr).filter((n) => !registered.has(n)).map((n) => `${r.alert}: ${n}`)));
    expect(unknown).toEqual([]);
  });
});
