// The metric names a PromQL expression reads: what is left after dropping strings, label matchers,
// grouping clauses, ranges and durations, minus function calls (an identifier followed by "(") and
// the language's keywords. Enough for the expressions of our rules and dashboard; not a parser.
import { OperatorMetrics } from '../../src/metrics/operator-metrics.js';

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan']);

export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\w+/g, ' ')
    .replace(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:ms|s|m|h|d|w|y)?\b/gi, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = m;
    if (call || KEYWORDS.has(name!.toLowerCase()) || /^\d/.test(name!)) continue;
    names.add(name!);
  }
  return [...names];
}

/** Every series name a fresh operator registry exposes (histogram suffixes included). */
export async function registeredSeriesNames(): Promise<Set<string>> {
  const text = await new OperatorMetrics().render();
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)$/.exec(line);
    if (!type) continue;
    const [, name, kind] = type;
    out.add(name!);
    if (kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(name! + s);
    if (kind === 'summary') for (const s of ['_sum', '_count']) out.add(name! + s);
  }
  return out;
}
