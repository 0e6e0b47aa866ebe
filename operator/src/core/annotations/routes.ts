// `ipam.spidernet.io/routes`: extra routes for the pod, `[{"dst": CIDR, "gw": IP}]`.
// Spiderpool: types.AnnoPodRoutesValue (pkg/types/k8s.go), checked in pkg/ipam/utils.go
// getCustomRoutes with ip.IsRouteWithoutIPVersion: dst must be a CIDR and gw an IP of the same
// family. Which interface a route goes to (the one whose subnet contains gw) is decided after
// allocation, not here.

import type { Route } from '../../api/v2beta1/types.js';
import { ANNO_POD_ROUTES } from '../../api/v2beta1/constants.js';
import { field, isPlainObject, parseJson } from './json-fields.js';
import { cidrFamilyOf, ipFamilyOf } from './looks-like-ip.js';
import { annotationError, ok, type AnnotationResult } from './result.js';

const EXPECTED =
  'a JSON array of {"dst": CIDR, "gw": IP} with dst and gw of the same IP family ' +
  '(e.g. [{"dst":"10.20.0.0/16","gw":"172.18.40.1"}])';

export function parseRoutesAnnotation(raw: string): AnnotationResult<Route[]> {
  const fail = (reason: string) => annotationError(ANNO_POD_ROUTES, raw, EXPECTED, reason);
  const json = parseJson(raw);
  if (!json.ok) return fail(json.reason);
  if (!Array.isArray(json.value)) return fail('the value is not a JSON array');

  const routes: Route[] = [];
  for (const [i, entry] of json.value.entries()) {
    const at = (reason: string) => fail(`route ${i}: ${reason}`);
    if (!isPlainObject(entry)) return at('not a JSON object');
    const dst = field(entry, 'dst');
    const gw = field(entry, 'gw');
    if (typeof dst !== 'string') return at('"dst" must be a CIDR string');
    if (typeof gw !== 'string') return at('"gw" must be an IP string');
    const dstFamily = cidrFamilyOf(dst);
    if (dstFamily === 0) return at(`dst "${dst}" is not a CIDR`);
    const gwFamily = ipFamilyOf(gw);
    if (gwFamily === 0) return at(`gw "${gw}" is not an IP address`);
    if (dstFamily !== gwFamily) return at(`dst "${dst}" is IPv${dstFamily} but gw "${gw}" is IPv${gwFamily}`);
    routes.push({ dst, gw });
  }
  return ok(routes);
}
