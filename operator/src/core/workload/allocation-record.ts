// The core's view of one allocated IP. Where and how records are stored is decided elsewhere (ADR);
// the rules in this directory only need these fields.

import type { IPVersion } from '../../api/v2beta1/types.js';

export interface AllocationRecord {
  /** Canonical text form of the address. */
  ip: string;
  pool: string;
  family: IPVersion;
  /** The interface inside the pod, e.g. eth0, net1. */
  nic: string;
  namespace: string;
  podName: string;
  podUID: string;
  /** Kind of the pod's top controller when the IP was allocated (e.g. StatefulSet). */
  ownerKind?: string;
  ownerName?: string;
  node?: string;
  containerID?: string;
}
