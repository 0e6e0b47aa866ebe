// The generated files and their expected content (the generator and the drift test share this).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderMetricsDoc } from './doc.js';
import { renderRulesFile, ruleGroupsOf } from './rules.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const paths = {
  prometheusRule: join(repoRoot, 'config', 'prometheus', 'prometheusrule.yaml'),
  rules: join(repoRoot, 'config', 'prometheus', 'rules.yaml'),
  rulesTest: join(repoRoot, 'config', 'prometheus', 'rules.test.yaml'),
  dashboard: join(repoRoot, 'config', 'grafana', 'spiderpool-ts-dashboard.json'),
  doc: join(repoRoot, 'docs', 'metrics.md'),
};

export function generatedFiles(): { path: string; content: string }[] {
  const rule = readFileSync(paths.prometheusRule, 'utf8');
  return [
    { path: paths.rules, content: renderRulesFile(rule) },
    { path: paths.doc, content: renderMetricsDoc(ruleGroupsOf(rule)) },
  ];
}
