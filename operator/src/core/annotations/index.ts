// Parsers for Spiderpool's pod, namespace and workload annotations. Each returns
// `{ok: true, value} | {ok: false, error: AnnotationError}`; the error's `message` names the
// annotation, the offending value and the expected form with an example.

export * from '../../api/v2beta1/constants.js';
export * from './result.js';
export { parsePodIPPoolAnnotation, type PodIPPoolAnnotation } from './ippool.js';
export { parsePodIPPoolsAnnotation, type PodIPPoolsItem } from './ippools.js';
export { parseSubnetAnnotation, parseSubnetsAnnotation, type SubnetAnnotationItem } from './subnet.js';
export { parsePoolIPNumberAnnotation, MAX_POOL_IP_NUMBER, type PoolIPNumber } from './ip-number.js';
export { parseReclaimAnnotation } from './reclaim.js';
export { parseRoutesAnnotation } from './routes.js';
export { parseNamespaceDefaultPools, type NamespaceDefaultPools } from './namespace-defaults.js';
