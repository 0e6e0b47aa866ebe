// ipam.spiderpool-ts.io/v1alpha1 IPAMBlock: the durable record of one pool's allocations inside one
// aligned range of 256 addresses (crds/internal/ipam.spiderpool-ts.io_ipamblocks.yaml, ADR 0005).
// Field names in entries are short on purpose: a block holds up to 256 of them and is rewritten
// whole on every group commit, so bytes per entry are bytes per write.
import type { ObjectMeta } from '../v2beta1/meta.js';

export const IPAM_GROUP = 'ipam.spiderpool-ts.io';
export const IPAM_VERSION = 'v1alpha1';
export const IPAM_API_VERSION = `${IPAM_GROUP}/${IPAM_VERSION}` as const;
export const IPAMBLOCK_PLURAL = 'ipamblocks';
/** Label on every block naming its pool, so one pool's blocks are one label-selected list. */
export const LABEL_BLOCK_POOL = `${IPAM_GROUP}/pool`;
/** Addresses per block: an IPv4 /24 or an IPv6 /120. */
export const BLOCK_SIZE = 256;

/** One held address. */
export interface BlockEntry {
  /** Pod UID. */
  uid: string;
  /** Pod `namespace/name`. */
  pod: string;
  /** Interface inside the pod (CNI_IFNAME). */
  nic: string;
  /** Container (sandbox) id of the ADD that recorded or last re-confirmed it. */
  cid?: string;
  node?: string;
  /** CNI network name (CNI GC is per network). */
  net?: string;
  /** Sequence number in the block; a release must name it (a late DEL cannot free a reused address). */
  seq: number;
  /** RFC 3339 time of recording (GC grace period). */
  at?: string;
  /** `Kind/name` of the pod's top controller (StatefulSet identity). */
  ok?: string;
}

export interface IPAMBlockSpec {
  pool: string;
  poolUID?: string;
  /** The aligned range: an IPv4 /24 or an IPv6 /120. */
  cidr: string;
  /** Last sequence number handed out in the block. */
  seq: number;
  /** Entry count (printer column); equal to the number of keys of `allocations`. */
  allocated?: number;
  /** Key: the address's offset in the block, "0".."255". */
  allocations: Record<string, BlockEntry>;
}

export interface IPAMBlock {
  apiVersion: typeof IPAM_API_VERSION;
  kind: 'IPAMBlock';
  metadata: ObjectMeta;
  spec: IPAMBlockSpec;
}
