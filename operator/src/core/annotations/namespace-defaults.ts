// Namespace annotations `ipam.spidernet.io/default-ipv4-ippool` / `default-ipv6-ippool`: JSON string
// arrays of pool names (or globs). Spiderpool: namespacemanager.GetNSDefaultPools unmarshals both into
// []string; `null` or an absent key means "no default"; an empty list likewise.

import { ANNO_NS_DEFAULT_IPV4_IPPOOL, ANNO_NS_DEFAULT_IPV6_IPPOOL } from '../../api/v2beta1/constants.js';
import { parseJson, readNameList } from './json-fields.js';
import { annotationError, ok, type AnnotationResult } from './result.js';

export interface NamespaceDefaultPools {
  ipv4: string[];
  ipv6: string[];
}

const EXPECTED = 'a JSON array of pool names or globs (e.g. ["default-v4-pool","team-a-*"])';

function parseList(key: string, raw: string | undefined): AnnotationResult<string[]> {
  if (raw === undefined) return ok([]);
  const json = parseJson(raw);
  if (!json.ok) return annotationError(key, raw, EXPECTED, json.reason);
  const list = readNameList(json.value, 'the value');
  if (!list.ok) return annotationError(key, raw, EXPECTED, list.reason);
  return ok(list.value);
}

export function parseNamespaceDefaultPools(annotations: Readonly<Record<string, string>> | undefined): AnnotationResult<NamespaceDefaultPools> {
  const ipv4 = parseList(ANNO_NS_DEFAULT_IPV4_IPPOOL, annotations?.[ANNO_NS_DEFAULT_IPV4_IPPOOL]);
  if (!ipv4.ok) return ipv4;
  const ipv6 = parseList(ANNO_NS_DEFAULT_IPV6_IPPOOL, annotations?.[ANNO_NS_DEFAULT_IPV6_IPPOOL]);
  if (!ipv6.ok) return ipv6;
  return ok({ ipv4: ipv4.value, ipv6: ipv6.value });
}
