import type { SpiderIPPool, SpiderIPPoolSpec } from '../../../src/api/v2beta1/types.js';
import type { SelectionInput } from '../../../src/core/selection/index.js';

export function pool(name: string, spec: Partial<SpiderIPPoolSpec> = {}, meta: Partial<SpiderIPPool['metadata']> = {}): SpiderIPPool {
  const v6 = spec.ipVersion === 6;
  return {
    apiVersion: 'spiderpool.spidernet.io/v2beta1',
    kind: 'SpiderIPPool',
    metadata: { name, ...meta },
    spec: { ipVersion: v6 ? 6 : 4, subnet: v6 ? 'fd00::/64' : '10.0.0.0/24', ...spec },
  };
}

export const v6 = (name: string, spec: Partial<SpiderIPPoolSpec> = {}, meta: Partial<SpiderIPPool['metadata']> = {}) =>
  pool(name, { ipVersion: 6, ...spec }, meta);

export function input(over: Partial<SelectionInput> = {}): SelectionInput {
  return {
    pod: { namespace: 'ns', name: 'pod-0', nodeName: 'node-1', labels: { app: 'web' }, annotations: {} },
    nodeLabels: { zone: 'a' },
    namespaceLabels: { team: 'blue' },
    namespaceAnnotations: {},
    nic: 'eth0',
    pools: [],
    config: { enableIPv4: true, enableIPv6: true, multusNamespace: 'spiderpool' },
    ...over,
  };
}

export const withAnno = (annotations: Record<string, string>, over: Partial<SelectionInput> = {}): SelectionInput => {
  const base = input(over);
  return { ...base, pod: { ...base.pod, annotations } };
};
