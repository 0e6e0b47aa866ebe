// TypeScript types for spiderpool.spidernet.io/v2beta1, written once and shared by the operator, the
// shim, the CLI and the tests. Field names, optionality and JSON names follow Spiderpool's Go types
// (spidernet-io/spiderpool pkg/k8s/apis/spiderpool.spidernet.io/v2beta1/{spiderippool,spidersubnet,
// spiderendpoint,spiderreservedip}_types.go) so that users' existing manifests apply unchanged. The
// OpenAPI schemas in crds/*.yaml are the authority on validation; keep the two in step
// (operator/test/crds checks every field here against the schema, and SCHEMA_LIMITS against it).
// Deliberately free of @kubernetes/client-node imports: the pure IPAM core depends on this file.

import type { Condition, LabelSelector, ObjectMeta } from './meta.js';

export const GROUP = 'spiderpool.spidernet.io';
export const VERSION = 'v2beta1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

/** Go: int64 restricted to the enum 4;6 (pkg/constant/ip.go IPv4/IPv6). */
export type IPVersion = 4 | 6;

/** Go: Route in spiderippool_types.go; both fields required. */
export interface Route {
  /** Destination CIDR, same family as the pool. The default route is set through `gateway`. */
  dst: string;
  /** Next hop; must lie inside the pool's `subnet`. */
  gw: string;
}

/**
 * Bounds the CRD schemas put on lists and strings (so the apiserver's CEL cost estimate for the
 * x-kubernetes-validations stays within budget). Writers (e.g. auto-pool scaling) must stay inside
 * them or the apiserver rejects the update. Not Spiderpool's: it has no such bounds.
 */
export const SCHEMA_LIMITS = {
  /** spec.ips / spec.excludeIPs entries per pool, subnet or reserved-IP object. */
  maxIPRanges: 4096,
  /** One `ips` entry: a single address or `a-b` (two full-length IPv6 addresses + '-'). */
  maxIPRangeLength: 79,
  /** `subnet` and route `dst`: IPv6 address (39) + '/128'. */
  maxCIDRLength: 43,
  /** `gateway` and route `gw`. */
  maxIPLength: 39,
  /** spec.routes entries. */
  maxRoutes: 128,
  /** VLAN id range of spec.vlan. */
  minVlan: 0,
  maxVlan: 4094,
} as const;

// ---------------------------------------------------------------------------------------------
// SpiderIPPool (cluster-scoped, short name `sp`, category `spiderpool`, status subresource)

/** Go: IPPoolSpec. */
export interface SpiderIPPoolSpec {
  /**
   * Optional in the schema: Spiderpool's mutating webhook derives it from `subnet` when absent,
   * and so must we. When present it must match the family of `subnet`. Immutable once set.
   */
  ipVersion?: IPVersion;
  /** Canonical network CIDR of the underlay subnet, e.g. 172.18.40.0/24. Required, immutable. */
  subnet: string;
  /** Allocatable addresses: single IPs or `a-b` ranges (no spaces), all inside `subnet`. */
  ips?: string[];
  /** Addresses (single or `a-b`) inside `subnet` that are never allocated. */
  excludeIPs?: string[];
  /** Default gateway handed to pods; an address inside `subnet`. */
  gateway?: string;
  /** DEPRECATED in Spiderpool (dropped from its newest IPPool schema); kept so old manifests apply. 0..4094. */
  vlan?: number;
  routes?: Route[];
  podAffinity?: LabelSelector;
  namespaceAffinity?: LabelSelector;
  namespaceName?: string[];
  nodeAffinity?: LabelSelector;
  nodeName?: string[];
  multusName?: string[];
  /** Schema default false. */
  default?: boolean;
  /** Schema default false. */
  disable?: boolean;
}

/** Go: PoolIPAllocation, one value of the `status.allocatedIPs` JSON map (keyed by IP). */
export interface PoolIPAllocation {
  /** Go field NIC: the pod interface name, e.g. `eth0`, `net1`. */
  interface: string;
  /** Go field NamespacedName: `namespace/name` of the pod. */
  pod: string;
  podUid: string;
}

/** Go: PoolIPAllocations — what `SpiderIPPoolStatus.allocatedIPs` decodes to (JSON.parse). */
export type PoolIPAllocations = Record<string, PoolIPAllocation>;

/** Go: IPPoolStatus. */
export interface SpiderIPPoolStatus {
  /** JSON-encoded {@link PoolIPAllocations}, as Spiderpool stores it (a derived view here). */
  allocatedIPs?: string;
  /** >= 0. */
  allocatedIPCount?: number;
  /** >= 0. */
  totalIPCount?: number;
  /** Not in Spiderpool: total - allocated, asked for by its users (FREE printer column). >= 0. */
  freeIPCount?: number;
  /** Not in Spiderpool: Ready and Exhausted, with observedGeneration (controllers/pool-conditions.ts). */
  conditions?: Condition[];
}

export interface SpiderIPPool {
  apiVersion: typeof API_VERSION;
  kind: 'SpiderIPPool';
  metadata: ObjectMeta;
  spec: SpiderIPPoolSpec;
  status?: SpiderIPPoolStatus;
}

// ---------------------------------------------------------------------------------------------
// SpiderSubnet (cluster-scoped, short name `ss`, category `spiderpool`, status subresource)

/** Go: SubnetSpec. Same validation as the pool's fields of the same name. */
export interface SpiderSubnetSpec {
  ipVersion?: IPVersion;
  subnet: string;
  ips?: string[];
  excludeIPs?: string[];
  gateway?: string;
  /** DEPRECATED in Spiderpool. 0..4094. */
  vlan?: number;
  routes?: Route[];
}

/** Go: PoolIPPreAllocation, one value of the `status.controlledIPPools` JSON map (keyed by pool name). */
export interface PoolIPPreAllocation {
  ips: string[];
  /** The owning application, when the pool is an auto pool. */
  application?: string;
}

/** Go: PoolIPPreAllocations — what `SpiderSubnetStatus.controlledIPPools` decodes to. */
export type PoolIPPreAllocations = Record<string, PoolIPPreAllocation>;

/** Go: SubnetStatus. */
export interface SpiderSubnetStatus {
  /** JSON-encoded {@link PoolIPPreAllocations}. */
  controlledIPPools?: string;
  totalIPCount?: number;
  allocatedIPCount?: number;
  /** Not in Spiderpool (FREE printer column). */
  freeIPCount?: number;
  /** Not in Spiderpool: Ready and Exhausted, with observedGeneration (controllers/pool-conditions.ts). */
  conditions?: Condition[];
}

export interface SpiderSubnet {
  apiVersion: typeof API_VERSION;
  kind: 'SpiderSubnet';
  metadata: ObjectMeta;
  spec: SpiderSubnetSpec;
  status?: SpiderSubnetStatus;
}

// ---------------------------------------------------------------------------------------------
// SpiderEndpoint (namespaced, short name `se`, no status subresource): a derived view of one pod's
// allocations. It has no spec; everything lives in `status`, written through the main resource.

/** Go: IPAllocationDetail. */
export interface IPAllocationDetail {
  /** Go field NIC. Required. */
  interface: string;
  /** CIDR notation (address/prefix), as Spiderpool writes it, e.g. `172.18.40.10/24`. */
  ipv4?: string;
  ipv6?: string;
  ipv4Pool?: string;
  ipv6Pool?: string;
  /** DEPRECATED in Spiderpool. Schema default 0, 0..4094. */
  vlan?: number;
  ipv4Gateway?: string;
  ipv6Gateway?: string;
  cleanGateway?: boolean;
  routes?: Route[];
}

/** Go: PodIPAllocation; all three fields required. */
export interface PodIPAllocation {
  uid: string;
  node: string;
  ips: IPAllocationDetail[];
}

/** Go: WorkloadEndpointStatus; all three fields required. */
export interface SpiderEndpointStatus {
  current: PodIPAllocation;
  ownerControllerType: string;
  ownerControllerName: string;
}

export interface SpiderEndpoint {
  apiVersion: typeof API_VERSION;
  kind: 'SpiderEndpoint';
  metadata: ObjectMeta;
  status?: SpiderEndpointStatus;
}

// ---------------------------------------------------------------------------------------------
// SpiderReservedIP (cluster-scoped, short name `sr`, category `spiderpool`, no status)

/** Go: ReservedIPSpec. */
export interface SpiderReservedIPSpec {
  ipVersion?: IPVersion;
  /** Single IPs or `a-b` ranges, of the family `ipVersion` says when it is set. */
  ips?: string[];
}

export interface SpiderReservedIP {
  apiVersion: typeof API_VERSION;
  kind: 'SpiderReservedIP';
  metadata: ObjectMeta;
  spec: SpiderReservedIPSpec;
}

export type SpiderResource = SpiderIPPool | SpiderSubnet | SpiderEndpoint | SpiderReservedIP;
export type SpiderKind = SpiderResource['kind'];

/** Plural resource names, as the API paths use them. */
export const PLURALS = {
  SpiderIPPool: 'spiderippools',
  SpiderSubnet: 'spidersubnets',
  SpiderEndpoint: 'spiderendpoints',
  SpiderReservedIP: 'spiderreservedips',
} as const satisfies Record<SpiderKind, string>;

/** Short names (kubectl get sp / ss / se / sr). */
export const SHORT_NAMES = {
  SpiderIPPool: 'sp',
  SpiderSubnet: 'ss',
  SpiderEndpoint: 'se',
  SpiderReservedIP: 'sr',
} as const satisfies Record<SpiderKind, string>;

/** Only SpiderEndpoint is namespaced. */
export const NAMESPACED = {
  SpiderIPPool: false,
  SpiderSubnet: false,
  SpiderEndpoint: true,
  SpiderReservedIP: false,
} as const satisfies Record<SpiderKind, boolean>;
