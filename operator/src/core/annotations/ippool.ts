// `ipam.spidernet.io/ippool`: the pools of a single-interface pod.
// Spiderpool: types.AnnoPodIPPoolValue {ipv4, ipv6} (pkg/types/k8s.go), parsed in
// pkg/ipam/pool_selections.go getPoolFromPodAnnoPool. The optional `interface` field is Spiderpool's
// older form (AnnoPodIPPoolValue.NIC): when present it must equal the interface the runtime asks for;
// the selection pipeline enforces that, this parser only reads it.

import { ANNO_POD_IPPOOL } from '../../api/v2beta1/constants.js';
import { field, ignoredFieldsHint, isPlainObject, parseJson, readNameList, readOptionalString } from './json-fields.js';
import { annotationError, ok, type AnnotationResult } from './result.js';

export interface PodIPPoolAnnotation {
  interface?: string;
  ipv4: string[];
  ipv6: string[];
}

const EXPECTED =
  'a JSON object {"ipv4"?: [pool names], "ipv6"?: [pool names], "interface"?: name} naming at least one pool ' +
  '(e.g. {"ipv4":["v4-pool"],"ipv6":["v6-pool"]})';
const KNOWN = ['interface', 'ipv4', 'ipv6'] as const;

export function parsePodIPPoolAnnotation(raw: string): AnnotationResult<PodIPPoolAnnotation> {
  const fail = (reason: string) => annotationError(ANNO_POD_IPPOOL, raw, EXPECTED, reason);
  const json = parseJson(raw);
  if (!json.ok) return fail(json.reason);
  if (!isPlainObject(json.value)) return fail('the value is not a JSON object');
  const obj = json.value;

  const nic = readOptionalString(field(obj, 'interface'), 'interface');
  if (!nic.ok) return fail(nic.reason);
  if (nic.value === '') return fail('"interface" is empty');
  const ipv4 = readNameList(field(obj, 'ipv4'), '"ipv4"');
  if (!ipv4.ok) return fail(ipv4.reason);
  const ipv6 = readNameList(field(obj, 'ipv6'), '"ipv6"');
  if (!ipv6.ok) return fail(ipv6.reason);
  // Older Spiderpool rejected this outright; newer ones fail later with "no pool". Say it now.
  if (ipv4.value.length === 0 && ipv6.value.length === 0) {
    return fail(`no pool is named${ignoredFieldsHint(obj, KNOWN)}`);
  }

  const value: PodIPPoolAnnotation = { ipv4: ipv4.value, ipv6: ipv6.value };
  if (nic.value !== undefined) value.interface = nic.value;
  return ok(value);
}
