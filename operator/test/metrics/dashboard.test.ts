// The Grafana dashboard parses, and every query (panels and template variables) reads only metrics
// the operator registers: a renamed metric fails here, not on someone's empty panel.
import { readFileSync } from 'node:fs';
import { paths } from '../../src/metrics/gen/files.js';
import { metricNames, registeredSeriesNames } from './promql-names.js';

interface Panel {
  title?: string;
  type: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(paths.dashboard, 'utf8')) as { uid: string; panels: Panel[]; templating: { list: { name: string; query?: { query?: string } | string }[] } };
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const exprs = [
    ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr ?? '' }))),
    ...dashboard.templating.list
      .map((v) => ({ where: `variable ${v.name}`, expr: typeof v.query === 'string' ? '' : /label_values\((\w+)/.exec(v.query?.query ?? '')?.[1] ?? '' }))
      .filter((e) => e.expr),
  ];

  test('has a uid and queries in every non-row panel', () => {
    expect(dashboard.uid).toBe('spiderpool-ts-ipam');
    for (const p of panels.filter((x) => x.type !== 'row')) expect({ panel: p.title, queries: p.targets?.filter((t) => t.expr).length ?? 0 }).toEqual({ panel: p.title, queries: expect.any(Number) as number });
    for (const p of panels.filter((x) => x.type !== 'row')) expect(p.targets?.length ?? 0).toBeGreaterThan(0);
    expect(exprs.length).toBeGreaterThan(20);
  });

  test('every expression names only registered metrics', async () => {
    const registered = await registeredSeriesNames();
    const unknown = exprs.flatMap((e) => metricNames(e.expr).filter((n) => !registered.has(n)).map((n) => `${e.where}: ${n}`));
    expect(unknown).toEqual([]);
    // and reads at least one metric each (a typo'd function would leave none)
    for (const e of exprs) expect({ where: e.where, names: metricNames(e.expr).length > 0 }).toEqual({ where: e.where, names: true });
  });

  test('the name extraction sees through matchers, grouping, ranges and functions', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, pool) (rate(a_bucket{reason=~"x|y", pool="$pool"}[$__rate_interval])))')).toEqual(['a_bucket']);
    expect(metricNames('max by (pool) (b) / on (pool) group_left c offset 5m > 0.1 * d')).toEqual(['b', 'c', 'd']);
    expect(metricNames('absent(spiderpool_ts_leader == 1)')).toEqual(['spiderpool_ts_leader']);
  });
});
