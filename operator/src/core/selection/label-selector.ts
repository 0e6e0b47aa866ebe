// Kubernetes label-selector semantics (metav1.LabelSelectorAsSelector + labels.Selector.Matches),
// which Spiderpool applies to spec.nodeAffinity, spec.namespaceAffinity and spec.podAffinity:
// all matchLabels and all matchExpressions must hold; an empty selector matches everything;
// NotIn and DoesNotExist hold when the key is absent. A malformed requirement (In without values,
// Exists with values, an unknown operator) makes the selector invalid: Spiderpool then filters the
// pool out with the conversion error, and so do we.

import type { LabelSelector } from '../../api/v2beta1/meta.js';

export type SelectorVerdict = { valid: true; matches: boolean } | { valid: false; reason: string };

export function evaluateLabelSelector(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): SelectorVerdict {
  const have = labels ?? {};
  let matches = true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (have[key] !== value) matches = false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const values = req.values ?? [];
    const present = Object.hasOwn(have, req.key);
    const op: string = req.operator;
    switch (op) {
      case 'In':
      case 'NotIn': {
        if (values.length === 0) return { valid: false, reason: `${op} requirement on "${req.key}" has no values` };
        const inValues = present && values.includes(have[req.key] as string);
        if (op === 'In' ? !inValues : inValues) matches = false;
        break;
      }
      case 'Exists':
      case 'DoesNotExist':
        if (values.length !== 0) return { valid: false, reason: `${op} requirement on "${req.key}" must not have values` };
        if (op === 'Exists' ? !present : present) matches = false;
        break;
      default:
        return { valid: false, reason: `unknown operator "${op}" on "${req.key}"` };
    }
  }
  return { valid: true, matches };
}
