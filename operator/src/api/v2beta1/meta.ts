// Minimal, dependency-free shapes of the Kubernetes metadata that our CRD types embed. The pure IPAM
// core imports CRD types, so they must not pull in @kubernetes/client-node; these are structurally
// compatible with client-node's V1ObjectMeta / V1LabelSelector (2.x), so objects read from the API
// assign to them (operator/test/crds/types-compat.test.ts checks this at type level).

/** Label selector operators Kubernetes accepts; the CRD schemas enforce the same enum. */
export type LabelSelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelectorRequirement {
  key: string;
  /**
   * One of {@link LabelSelectorOperator}. Typed open-ended (`string & {}`) so that client-node's
   * V1LabelSelectorRequirement (operator: string) stays assignable; the schema rejects other values.
   */
  operator: LabelSelectorOperator | (string & {});
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

/**
 * metav1.Condition. None of the four Spiderpool CRDs has conditions in its status; ours add them to
 * SpiderIPPool and SpiderSubnet status. Fields typed so that client-node's V1Condition assigns to it.
 */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown' | (string & {});
  reason: string;
  message: string;
  lastTransitionTime: string | Date;
  observedGeneration?: number;
}
