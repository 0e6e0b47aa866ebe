// config/prometheus/rules.yaml from config/prometheus/prometheusrule.yaml: the PrometheusRule's
// spec.groups as plain Prometheus rule groups (what `rule_files:` and promtool read).
import { parse, stringify } from 'yaml';

export interface RuleGroup {
  name: string;
  rules: { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[];
}

/** The rule groups of a PrometheusRule manifest; throws naming what is missing. */
export function ruleGroupsOf(prometheusRuleYaml: string): RuleGroup[] {
  const doc = parse(prometheusRuleYaml) as { kind?: string; spec?: { groups?: RuleGroup[] } } | null;
  if (doc?.kind !== 'PrometheusRule') throw new Error(`expected kind PrometheusRule, got ${JSON.stringify(doc?.kind)}`);
  const groups = doc.spec?.groups;
  if (!Array.isArray(groups) || groups.length === 0) throw new Error('PrometheusRule has no spec.groups');
  return groups;
}

export function renderRulesFile(prometheusRuleYaml: string): string {
  const header = [
    '# GENERATED from prometheusrule.yaml by `npm run metrics:gen`: edit that file, not this one.',
    '# Plain Prometheus rule groups (rule_files:, promtool check/test rules).',
  ].join('\n');
  return `${header}\n${stringify({ groups: ruleGroupsOf(prometheusRuleYaml) }, { lineWidth: 0 })}`;
}
