// `ipam.spidernet.io/ippools`: per-interface pools of a multi-interface pod.
// Spiderpool: types.AnnoPodIPPoolsValue / AnnoIPPoolItem {interface, ipv4, ipv6, cleangateway}
// (pkg/types/k8s.go), validated in pkg/ipam utils.go validateAndMutateMultipleNICAnnotations:
// at least one item, no duplicate interface. We require `interface` on every item; see
// parsePodIPPoolsAnnotation for why Spiderpool's "no names at all" mode is not supported.

import { ANNO_POD_IPPOOLS } from '../../api/v2beta1/constants.js';
import { field, ignoredFieldsHint, isPlainObject, parseJson, readBool, readNameList, readOptionalString } from './json-fields.js';
import { annotationError, ok, type AnnotationResult } from './result.js';

export interface PodIPPoolsItem {
  interface: string;
  ipv4: string[];
  ipv6: string[];
  /** Do not return the pool's default gateway route for this interface. */
  cleanGateway: boolean;
}

const EXPECTED =
  'a non-empty JSON array of {"interface": name, "ipv4"?: [pool names], "ipv6"?: [pool names], "cleangateway"?: bool}, ' +
  'one item per interface (e.g. [{"interface":"eth0","ipv4":["v4-a"]},{"interface":"net1","ipv4":["v4-b"],"cleangateway":true}])';
const KNOWN = ['interface', 'ipv4', 'ipv6', 'cleangateway'] as const;

/**
 * Spiderpool also accepts items that all omit `interface` and then names them "0", "1", … by
 * position, allocating every NIC in the first CNI ADD. That mode depends on one-shot multi-NIC
 * allocation we do not do (each ADD asks for one named interface), so a missing interface is an error.
 */
export function parsePodIPPoolsAnnotation(raw: string): AnnotationResult<PodIPPoolsItem[]> {
  const fail = (reason: string) => annotationError(ANNO_POD_IPPOOLS, raw, EXPECTED, reason);
  const json = parseJson(raw);
  if (!json.ok) return fail(json.reason);
  if (!Array.isArray(json.value)) return fail('the value is not a JSON array');
  if (json.value.length === 0) return fail('the array is empty');

  const items: PodIPPoolsItem[] = [];
  const seen = new Set<string>();
  for (const [i, entry] of json.value.entries()) {
    const at = (reason: string) => fail(`item ${i}: ${reason}`);
    if (!isPlainObject(entry)) return at('not a JSON object');
    const nic = readOptionalString(field(entry, 'interface'), 'interface');
    if (!nic.ok) return at(nic.reason);
    if (nic.value === undefined || nic.value === '') return at('"interface" is required');
    if (seen.has(nic.value)) return at(`duplicate interface "${nic.value}"`);
    seen.add(nic.value);
    const ipv4 = readNameList(field(entry, 'ipv4'), '"ipv4"');
    if (!ipv4.ok) return at(ipv4.reason);
    const ipv6 = readNameList(field(entry, 'ipv6'), '"ipv6"');
    if (!ipv6.ok) return at(ipv6.reason);
    if (ipv4.value.length === 0 && ipv6.value.length === 0) {
      return at(`no pool is named for interface "${nic.value}"${ignoredFieldsHint(entry, KNOWN)}`);
    }
    const cleanGateway = readBool(field(entry, 'cleangateway'), 'cleangateway');
    if (!cleanGateway.ok) return at(cleanGateway.reason);
    items.push({ interface: nic.value, ipv4: ipv4.value, ipv6: ipv6.value, cleanGateway: cleanGateway.value });
  }
  return ok(items);
}
