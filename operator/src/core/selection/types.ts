// Plain-data inputs and outputs of pool candidate selection. No I/O: the caller gathers the pod,
// its node's and namespace's labels, the CNI config defaults and the pool list first.

import type { IPVersion, SpiderIPPool } from '../../api/v2beta1/types.js';
import type { AnnotationError } from '../annotations/result.js';
import type { Application } from '../workload/application.js';

export interface PodInfo {
  namespace: string;
  name: string;
  labels?: Readonly<Record<string, string>>;
  annotations?: Readonly<Record<string, string>>;
  nodeName: string;
}

export interface SelectionConfig {
  enableIPv4: boolean;
  enableIPv6: boolean;
  /**
   * Auto pools from SpiderSubnets (Spiderpool: enableSpiderSubnet && enableAutoPoolForApplication).
   * When off, `ipam.spidernet.io/subnet(s)` annotations are not a pool source.
   */
  enableAutoPool?: boolean;
  /**
   * Namespace of an unqualified name in a pool's spec.multusName. Spiderpool resolves it to its own
   * installation namespace (the agent namespace).
   */
  multusNamespace: string;
}

export interface SelectionInput {
  pod: PodInfo;
  /** The pod's top controller; needed to match auto pools to their application. */
  podController?: Application;
  nodeLabels?: Readonly<Record<string, string>>;
  namespaceLabels?: Readonly<Record<string, string>>;
  namespaceAnnotations?: Readonly<Record<string, string>>;
  /** `default_ipv4_ippool` / `default_ipv6_ippool` from the CNI network config's ipam section. */
  cniDefaults?: { ipv4?: readonly string[]; ipv6?: readonly string[] };
  /** `clean_gateway` from the CNI config; the `ippools` annotation overrides it per interface. */
  cniCleanGateway?: boolean;
  /** The interface the runtime asks for (CNI_IFNAME). */
  nic: string;
  /** `namespace/name` of the multus network attachment this interface belongs to, if known. */
  multusNetwork?: string;
  pools: readonly SpiderIPPool[];
  config: SelectionConfig;
}

/** Where the candidate list came from, highest precedence first. */
export type SelectionSource =
  | 'subnet-annotation'
  | 'pod-ippools-annotation'
  | 'pod-ippool-annotation'
  | 'namespace-default'
  | 'cni-config-default'
  | 'cluster-default';

export interface Candidate {
  name: string;
  pool: SpiderIPPool;
  /** The glob this pool was expanded from, if any. */
  viaPattern?: string;
}

export type RejectionReason =
  | 'not-found'
  | 'family-disabled'
  | 'terminating'
  | 'disabled'
  | 'ip-version-mismatch'
  | 'node-name-mismatch'
  | 'node-affinity-mismatch'
  | 'namespace-name-mismatch'
  | 'namespace-affinity-mismatch'
  | 'pod-affinity-mismatch'
  | 'auto-pool-owner-mismatch'
  | 'multus-name-mismatch'
  | 'invalid-selector'
  | 'pattern-matched-nothing';

export interface Rejection {
  /** Pool name, or the glob for `pattern-matched-nothing`. */
  pool: string;
  family: IPVersion;
  reason: RejectionReason;
  detail: string;
}

export interface FamilyRequest {
  v4: boolean;
  v6: boolean;
}

export interface NicSelection {
  nic: string;
  source: SelectionSource;
  cleanGateway: boolean;
  /** Families the pod asks for on this interface: each must end up with an IP, or none may. */
  requested: FamilyRequest;
  /** Candidates to try in order. */
  v4: Candidate[];
  v6: Candidate[];
  rejections: Rejection[];
}

export type SelectionError =
  | { kind: 'invalid-annotation'; error: AnnotationError; message: string }
  | { kind: 'interface-not-in-annotation'; message: string }
  | { kind: 'invalid-pattern'; message: string }
  | { kind: 'no-pool-rule'; message: string }
  | { kind: 'auto-pool-unavailable'; message: string }
  | { kind: 'family-exhausted'; families: IPVersion[]; rejections: Rejection[]; message: string };

export type SelectionResult = { ok: true; value: NicSelection } | { ok: false; error: SelectionError };
