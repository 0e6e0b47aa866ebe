// TypeScript types for spiderpool.spidernet.io/v2beta1, written once and shared by the operator, the
// shim, the CLI and the tests. Field names follow Spiderpool's Go types (pkg/k8s/apis/spiderpool.
// spidernet.io/v2beta1) so that users' existing manifests apply unchanged. The OpenAPI schemas in
// crds/*.yaml are the authority on validation; keep the two in step (tests/crds checks it).

import type { Condition, LabelSelector, ObjectMeta } from './meta.js';

export const GROUP = 'spiderpool.spidernet.io';
export const VERSION = 'v2beta1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

export type IPVersion = 4 | 6;

export interface Route {
  dst: string;
  gw: string;
}

// ---------------------------------------------------------------------------------------------
// SpiderIPPool (cluster-scoped, short name `sp`)

export interface SpiderIPPoolSpec {
  ipVersion?: IPVersion;
  /** CIDR of the underlay subnet the pool lives in, e.g. 172.18.40.0/24. Immutable. */
  subnet: string;
  /** Allocatable addresses: single IPs or `a-b` ranges inside `subnet`. */
  ips?: string[];
  /** Addresses inside `ips` that are never allocated. */
  excludeIPs?: string[];
  gateway?: string;
  vlan?: number;
  routes?: Route[];
  podAffinity?: LabelSelector;
  namespaceAffinity?: LabelSelector;
  namespaceName?: string[];
  nodeAffinity?: LabelSelector;
  nodeName?: string[];
  multusName?: string[];
  default?: boolean;
  disable?: boolean;
}

/** One entry of the pool's allocation record, keyed by IP (Spiderpool's PoolIPAllocation). */
export interface PoolIPAllocation {
  /** `namespace/name` of the pod. */
  pod: string;
  podUid: string;
}

export interface SpiderIPPoolStatus {
  /** JSON-encoded map IP -> PoolIPAllocation, as Spiderpool stores it (a derived view here). */
  allocatedIPs?: string;
  allocatedIPCount?: number;
  totalIPCount?: number;
  /** Not in Spiderpool: free = total - allocated, asked for by its users (FREE printer column). */
  freeIPCount?: number;
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
// SpiderSubnet (cluster-scoped, short name `ss`)

export interface SpiderSubnetSpec {
  ipVersion?: IPVersion;
  subnet: string;
  ips?: string[];
  excludeIPs?: string[];
  gateway?: string;
  vlan?: number;
  routes?: Route[];
}

export interface SpiderSubnetStatus {
  /** JSON-encoded map pool name -> { ips: string[], application?: string }. */
  controlledIPPools?: string;
  totalIPCount?: number;
  allocatedIPCount?: number;
  freeIPCount?: number;
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
// SpiderEndpoint (namespaced, short name `se`): a derived view of one pod's allocations.

export interface IPAllocationDetail {
  interface: string;
  ipv4?: string;
  ipv6?: string;
  ipv4Pool?: string;
  ipv6Pool?: string;
  vlan?: number;
  ipv4Gateway?: string;
  ipv6Gateway?: string;
  cleanGateway?: boolean;
  routes?: Route[];
}

export interface PodIPAllocation {
  uid: string;
  node: string;
  ips: IPAllocationDetail[];
}

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
// SpiderReservedIP (cluster-scoped, short name `sr`)

export interface SpiderReservedIPSpec {
  ipVersion?: IPVersion;
  ips?: string[];
}

export interface SpiderReservedIP {
  apiVersion: typeof API_VERSION;
  kind: 'SpiderReservedIP';
  metadata: ObjectMeta;
  spec: SpiderReservedIPSpec;
}

export type SpiderResource = SpiderIPPool | SpiderSubnet | SpiderEndpoint | SpiderReservedIP;

/** Plural resource names, as the API paths use them. */
export const PLURALS = {
  SpiderIPPool: 'spiderippools',
  SpiderSubnet: 'spidersubnets',
  SpiderEndpoint: 'spiderendpoints',
  SpiderReservedIP: 'spiderreservedips',
} as const;
