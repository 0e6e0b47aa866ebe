// `ipam.spidernet.io/ippool-reclaim`: delete the auto pool with its workload (default true).
// Spiderpool: applicationinformers.ShouldReclaimIPPool uses Go's strconv.ParseBool, which accepts
// 1/t/T/TRUE/true/True and 0/f/F/FALSE/false/False; we accept the same set so existing manifests work.

import { ANNO_IPPOOL_RECLAIM } from '../../api/v2beta1/constants.js';
import { annotationError, ok, type AnnotationResult } from './result.js';

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);
const EXPECTED = '"true" or "false" (e.g. "false" to keep the pool after the workload is deleted)';

/** Absent annotation → true, as in Spiderpool. */
export function parseReclaimAnnotation(raw: string | undefined): AnnotationResult<boolean> {
  if (raw === undefined) return ok(true);
  if (TRUE.has(raw)) return ok(true);
  if (FALSE.has(raw)) return ok(false);
  return annotationError(ANNO_IPPOOL_RECLAIM, raw, EXPECTED);
}
