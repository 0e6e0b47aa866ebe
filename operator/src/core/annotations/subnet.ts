// `ipam.spidernet.io/subnet` (one interface) and `ipam.spidernet.io/subnets` (several): which
// SpiderSubnet each interface's auto pool is carved from.
// Spiderpool: types.AnnoSubnetItem {interface, ipv4, ipv6} (pkg/types/k8s.go), parsed and checked in
// pkg/applicationcontroller/applicationinformers/utils.go GetSubnetAnnoConfig and
// mutateAndValidateSubnetAnno. Matched rules: only the FIRST subnet of each family is used (the
// rest are ignored, as Spiderpool does); an empty subnet name or an item with no subnet is an
// error; `subnet` defaults its interface to eth0; `subnets` rejects a duplicate interface and the
// same subnet used by two interfaces. `subnets` wins when both are present (caller's concern).

import { ANNO_SUBNET, ANNO_SUBNETS, CLUSTER_DEFAULT_INTERFACE_NAME } from '../../api/v2beta1/constants.js';
import { field, ignoredFieldsHint, isPlainObject, parseJson, readOptionalString, type Parsed } from './json-fields.js';
import { annotationError, ok, type AnnotationResult } from './result.js';

export interface SubnetAnnotationItem {
  interface: string;
  /** The SpiderSubnet for IPv4, if any. */
  ipv4?: string;
  /** The SpiderSubnet for IPv6, if any. */
  ipv6?: string;
}

const KNOWN = ['interface', 'ipv4', 'ipv6'] as const;
const EXPECTED_SINGLE =
  'a JSON object {"interface"?: name (default eth0), "ipv4"?: [subnet name], "ipv6"?: [subnet name]} naming at least one subnet ' +
  '(e.g. {"ipv4":["subnet-v4"],"ipv6":["subnet-v6"]})';
const EXPECTED_MULTI =
  'a non-empty JSON array of {"interface": name, "ipv4"?: [subnet name], "ipv6"?: [subnet name]}, one item per interface ' +
  '(e.g. [{"interface":"eth0","ipv4":["subnet-a"]},{"interface":"net1","ipv4":["subnet-b"]}])';

/** The first subnet name of a family; Spiderpool keeps `IPv4[0]` and drops the rest. */
function firstSubnet(v: unknown, fieldName: string): Parsed<string | undefined> {
  if (v === undefined || v === null) return { ok: true, value: undefined };
  if (!Array.isArray(v)) return { ok: false, reason: `"${fieldName}" must be a list of subnet names` };
  if (!v.every((x) => typeof x === 'string')) return { ok: false, reason: `"${fieldName}" must contain only strings` };
  const first = v[0] as string | undefined;
  if (first === undefined) return { ok: true, value: undefined };
  if (first.trim() === '') return { ok: false, reason: `"${fieldName}" names an empty subnet` };
  return { ok: true, value: first };
}

function readItem(entry: unknown, defaultInterface: string | undefined): Parsed<SubnetAnnotationItem> {
  if (!isPlainObject(entry)) return { ok: false, reason: 'not a JSON object' };
  const nic = readOptionalString(field(entry, 'interface'), 'interface');
  if (!nic.ok) return nic;
  const name = nic.value === undefined || nic.value === '' ? defaultInterface : nic.value;
  if (name === undefined) return { ok: false, reason: '"interface" is required' };
  const ipv4 = firstSubnet(field(entry, 'ipv4'), 'ipv4');
  if (!ipv4.ok) return ipv4;
  const ipv6 = firstSubnet(field(entry, 'ipv6'), 'ipv6');
  if (!ipv6.ok) return ipv6;
  if (ipv4.value === undefined && ipv6.value === undefined) {
    return { ok: false, reason: `no subnet is named${ignoredFieldsHint(entry, KNOWN)}` };
  }
  const item: SubnetAnnotationItem = { interface: name };
  if (ipv4.value !== undefined) item.ipv4 = ipv4.value;
  if (ipv6.value !== undefined) item.ipv6 = ipv6.value;
  return { ok: true, value: item };
}

export function parseSubnetAnnotation(raw: string): AnnotationResult<SubnetAnnotationItem> {
  const fail = (reason: string) => annotationError(ANNO_SUBNET, raw, EXPECTED_SINGLE, reason);
  const json = parseJson(raw);
  if (!json.ok) return fail(json.reason);
  const item = readItem(json.value, CLUSTER_DEFAULT_INTERFACE_NAME);
  return item.ok ? ok(item.value) : fail(item.reason);
}

export function parseSubnetsAnnotation(raw: string): AnnotationResult<SubnetAnnotationItem[]> {
  const fail = (reason: string) => annotationError(ANNO_SUBNETS, raw, EXPECTED_MULTI, reason);
  const json = parseJson(raw);
  if (!json.ok) return fail(json.reason);
  if (!Array.isArray(json.value)) return fail('the value is not a JSON array');
  if (json.value.length === 0) return fail('the array is empty');

  const items: SubnetAnnotationItem[] = [];
  const nics = new Set<string>();
  const used = { ipv4: new Set<string>(), ipv6: new Set<string>() };
  for (const [i, entry] of json.value.entries()) {
    const item = readItem(entry, undefined);
    if (!item.ok) return fail(`item ${i}: ${item.reason}`);
    const { value } = item;
    if (nics.has(value.interface)) return fail(`item ${i}: duplicate interface "${value.interface}"`);
    nics.add(value.interface);
    for (const family of ['ipv4', 'ipv6'] as const) {
      const subnet = value[family];
      if (subnet === undefined) continue;
      // Two interfaces on one subnet would need two auto pools from it for one application.
      if (used[family].has(subnet)) return fail(`item ${i}: subnet "${subnet}" is already used by another interface`);
      used[family].add(subnet);
    }
    items.push(value);
  }
  return ok(items);
}
