// Keeps operator/src/api/v2beta1/types.ts and crds/*.yaml in step: every property of every TS type
// exists in the schema with a matching JSON type and requiredness, and the schema has no property the
// types lack. The key lists below are checked for exhaustiveness at compile time (npm run typecheck):
// adding a field to a type without listing it here is a type error.

import type { V1LabelSelector, V1ObjectMeta } from '@kubernetes/client-node';
import { loadCRDs, schemaOf, type JSONSchema } from './crd-check.js';
import type { Condition, LabelSelector, ObjectMeta } from '../../src/api/v2beta1/meta.js';
import {
  SCHEMA_LIMITS,
  type IPAllocationDetail,
  type PodIPAllocation,
  type Route,
  type SpiderEndpointStatus,
  type SpiderIPPoolSpec,
  type SpiderIPPoolStatus,
  type SpiderKind,
  type SpiderReservedIPSpec,
  type SpiderSubnetSpec,
  type SpiderSubnetStatus,
} from '../../src/api/v2beta1/types.js';

// --- compile-time helpers -----------------------------------------------------------------------

type JSONKind = 'string' | 'integer' | 'boolean' | 'object' | 'array';
/** Field name -> [JSON type, required]. `satisfies` + Exact make the list exhaustive both ways. */
type FieldSpec<T> = { readonly [K in keyof Required<T>]-?: readonly [JSONKind, undefined extends T[K] ? false : true] };
const fields = <T>(f: FieldSpec<T>) => f;

const ROUTE = fields<Route>({ dst: ['string', true], gw: ['string', true] });
const LABEL_SELECTOR = fields<LabelSelector>({ matchLabels: ['object', false], matchExpressions: ['array', false] });

const POOL_SPEC = fields<SpiderIPPoolSpec>({
  ipVersion: ['integer', false],
  subnet: ['string', true],
  ips: ['array', false],
  excludeIPs: ['array', false],
  gateway: ['string', false],
  vlan: ['integer', false],
  routes: ['array', false],
  podAffinity: ['object', false],
  namespaceAffinity: ['object', false],
  namespaceName: ['array', false],
  nodeAffinity: ['object', false],
  nodeName: ['array', false],
  multusName: ['array', false],
  default: ['boolean', false],
  disable: ['boolean', false],
});
const POOL_STATUS = fields<SpiderIPPoolStatus>({
  allocatedIPs: ['string', false],
  allocatedIPCount: ['integer', false],
  totalIPCount: ['integer', false],
  freeIPCount: ['integer', false],
  conditions: ['array', false],
});
const SUBNET_SPEC = fields<SpiderSubnetSpec>({
  ipVersion: ['integer', false],
  subnet: ['string', true],
  ips: ['array', false],
  excludeIPs: ['array', false],
  gateway: ['string', false],
  vlan: ['integer', false],
  routes: ['array', false],
});
const SUBNET_STATUS = fields<SpiderSubnetStatus>({
  controlledIPPools: ['string', false],
  totalIPCount: ['integer', false],
  allocatedIPCount: ['integer', false],
  freeIPCount: ['integer', false],
  conditions: ['array', false],
});
const ENDPOINT_STATUS = fields<SpiderEndpointStatus>({
  current: ['object', true],
  ownerControllerType: ['string', true],
  ownerControllerName: ['string', true],
});
const POD_IP_ALLOCATION = fields<PodIPAllocation>({ uid: ['string', true], node: ['string', true], ips: ['array', true] });
const IP_ALLOCATION_DETAIL = fields<IPAllocationDetail>({
  interface: ['string', true],
  ipv4: ['string', false],
  ipv6: ['string', false],
  ipv4Pool: ['string', false],
  ipv6Pool: ['string', false],
  vlan: ['integer', false],
  ipv4Gateway: ['string', false],
  ipv6Gateway: ['string', false],
  cleanGateway: ['boolean', false],
  routes: ['array', false],
});
const RESERVED_SPEC = fields<SpiderReservedIPSpec>({ ipVersion: ['integer', false], ips: ['array', false] });

// Objects read through @kubernetes/client-node 2.x must assign to our dependency-free shapes.
const assignable = <T>(_: T) => true;
export const clientNodeCompat = (meta: V1ObjectMeta, sel: V1LabelSelector, cond: import('@kubernetes/client-node').V1Condition): boolean =>
  assignable<ObjectMeta>(meta) && assignable<LabelSelector>(sel) && assignable<Condition>(cond);

// --- runtime checks ---------------------------------------------------------------------------

const crds = loadCRDs();
const root = (kind: SpiderKind): JSONSchema => {
  const c = crds.find((x) => x.crd.spec.names.kind === kind);
  if (!c) throw new Error(kind);
  return schemaOf(c.crd);
};
const at = (s: JSONSchema, ...path: string[]): JSONSchema =>
  path.reduce<JSONSchema>((acc, k) => {
    const next = k === '[]' ? acc.items : acc.properties?.[k];
    if (!next) throw new Error(`no schema at ${path.join('.')}`);
    return next;
  }, s);

const cases: Array<[string, JSONSchema, Record<string, readonly [JSONKind, boolean]>]> = [
  ['SpiderIPPool spec', at(root('SpiderIPPool'), 'spec'), POOL_SPEC],
  ['SpiderIPPool status', at(root('SpiderIPPool'), 'status'), POOL_STATUS],
  ['SpiderIPPool spec.routes[]', at(root('SpiderIPPool'), 'spec', 'routes', '[]'), ROUTE],
  ['SpiderIPPool spec.podAffinity', at(root('SpiderIPPool'), 'spec', 'podAffinity'), LABEL_SELECTOR],
  ['SpiderIPPool spec.namespaceAffinity', at(root('SpiderIPPool'), 'spec', 'namespaceAffinity'), LABEL_SELECTOR],
  ['SpiderIPPool spec.nodeAffinity', at(root('SpiderIPPool'), 'spec', 'nodeAffinity'), LABEL_SELECTOR],
  ['SpiderSubnet spec', at(root('SpiderSubnet'), 'spec'), SUBNET_SPEC],
  ['SpiderSubnet status', at(root('SpiderSubnet'), 'status'), SUBNET_STATUS],
  ['SpiderSubnet spec.routes[]', at(root('SpiderSubnet'), 'spec', 'routes', '[]'), ROUTE],
  ['SpiderEndpoint status', at(root('SpiderEndpoint'), 'status'), ENDPOINT_STATUS],
  ['SpiderEndpoint status.current', at(root('SpiderEndpoint'), 'status', 'current'), POD_IP_ALLOCATION],
  ['SpiderEndpoint status.current.ips[]', at(root('SpiderEndpoint'), 'status', 'current', 'ips', '[]'), IP_ALLOCATION_DETAIL],
  ['SpiderEndpoint status.current.ips[].routes[]', at(root('SpiderEndpoint'), 'status', 'current', 'ips', '[]', 'routes', '[]'), ROUTE],
  ['SpiderReservedIP spec', at(root('SpiderReservedIP'), 'spec'), RESERVED_SPEC],
];

describe.each(cases)('%s', (_name, schema, spec) => {
  it('has exactly the properties of the TypeScript type', () => {
    expect(Object.keys(schema.properties ?? {}).sort()).toEqual(Object.keys(spec).sort());
  });
  it('agrees with the type on JSON types and requiredness', () => {
    for (const [k, [type, required]] of Object.entries(spec)) {
      expect({ k, type: schema.properties?.[k]?.type }).toEqual({ k, type });
      expect({ k, required: (schema.required ?? []).includes(k) }).toEqual({ k, required });
    }
  });
});

describe('top level', () => {
  it.each([
    ['SpiderIPPool', ['apiVersion', 'kind', 'metadata', 'spec', 'status']],
    ['SpiderSubnet', ['apiVersion', 'kind', 'metadata', 'spec', 'status']],
    ['SpiderEndpoint', ['apiVersion', 'kind', 'metadata', 'status']],
    ['SpiderReservedIP', ['apiVersion', 'kind', 'metadata', 'spec']],
  ] as const)('%s has %p', (kind, keys) => {
    expect(Object.keys(root(kind).properties ?? {}).sort()).toEqual([...keys].sort());
  });

  it('string-typed list items are strings (ips, excludeIPs, nodeName, namespaceName, multusName)', () => {
    for (const k of ['ips', 'excludeIPs', 'nodeName', 'namespaceName', 'multusName']) expect(at(root('SpiderIPPool'), 'spec', k, '[]').type).toBe('string');
  });
});

describe('SCHEMA_LIMITS', () => {
  it.each(['SpiderIPPool', 'SpiderSubnet'] as const)('%s schema uses exactly these bounds', (kind) => {
    const spec = at(root(kind), 'spec');
    for (const f of ['ips', 'excludeIPs']) {
      expect(at(spec, f).maxItems).toBe(SCHEMA_LIMITS.maxIPRanges);
      expect(at(spec, f, '[]').maxLength).toBe(SCHEMA_LIMITS.maxIPRangeLength);
    }
    expect(at(spec, 'subnet').maxLength).toBe(SCHEMA_LIMITS.maxCIDRLength);
    expect(at(spec, 'gateway').maxLength).toBe(SCHEMA_LIMITS.maxIPLength);
    expect(at(spec, 'routes').maxItems).toBe(SCHEMA_LIMITS.maxRoutes);
    expect(at(spec, 'routes', '[]', 'dst').maxLength).toBe(SCHEMA_LIMITS.maxCIDRLength);
    expect(at(spec, 'routes', '[]', 'gw').maxLength).toBe(SCHEMA_LIMITS.maxIPLength);
    expect(at(spec, 'vlan')).toMatchObject({ minimum: SCHEMA_LIMITS.minVlan, maximum: SCHEMA_LIMITS.maxVlan });
  });

  it('SpiderReservedIP uses the same ips bounds', () => {
    expect(at(root('SpiderReservedIP'), 'spec', 'ips').maxItems).toBe(SCHEMA_LIMITS.maxIPRanges);
    expect(at(root('SpiderReservedIP'), 'spec', 'ips', '[]').maxLength).toBe(SCHEMA_LIMITS.maxIPRangeLength);
  });

  it('the string bounds fit the longest valid spellings', () => {
    const v6 = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
    expect(v6.length).toBe(SCHEMA_LIMITS.maxIPLength);
    expect(`${v6}-${v6}`.length).toBe(SCHEMA_LIMITS.maxIPRangeLength);
    expect(`${v6}/128`.length).toBe(SCHEMA_LIMITS.maxCIDRLength);
  });
});
