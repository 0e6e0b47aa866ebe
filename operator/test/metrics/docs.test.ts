// docs/metrics.md is generated from the catalog: it names every metric the registry exports, with its
// type and labels, and fails here when someone adds a metric without regenerating it.
import { readFileSync } from 'node:fs';
import { METRICS, type MetricSpec } from '../../src/metrics/catalog.js';
import { generatedFiles, paths } from '../../src/metrics/gen/files.js';
import { OperatorMetrics } from '../../src/metrics/operator-metrics.js';

describe('docs/metrics.md', () => {
  test('is up to date (npm run metrics:gen)', () => {
    const doc = generatedFiles().find((f) => f.path === paths.doc)!;
    expect(readFileSync(paths.doc, 'utf8')).toBe(doc.content);
  });

  test('documents every registered metric with its type and labels, and nothing else', async () => {
    const doc = readFileSync(paths.doc, 'utf8');
    const rows = new Map(
      [...doc.matchAll(/^\| `([a-z_:]+)` \| (\w+) \| ([^|]*) \|/gm)].map((m) => [m[1]!, { type: m[2]!, labels: [...m[3]!.matchAll(/`(\w+)`/g)].map((l) => l[1]!) }]),
    );
    const registry = new OperatorMetrics({ defaultMetrics: false }).registry;
    const registered = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
    expect([...rows.keys()].sort()).toEqual(registered);
    for (const spec of Object.values(METRICS) as MetricSpec[]) {
      expect({ name: spec.name, ...rows.get(spec.name) }).toEqual({ name: spec.name, type: spec.type, labels: [...spec.labels] });
    }
  });
});
