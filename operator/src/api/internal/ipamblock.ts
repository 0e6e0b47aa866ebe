// ipam.spiderpool-ts.io/v1alpha1 IPAMBlock: the durable record of one pool's allocations inside one
// aligned range of 256 addresses (crds/internal/ipam.spiderpool-ts.io_ipamblocks.yaml, ADR 0005).
// Each entry is one compact string, not a nested object: a block holds up to 256 of them and is
// rewritten whole on every group commit, and the apiserver's cost for a custom object grows with its
// number of fields (decode, prune, validate per field). Measured on the local control plane, replacing
// a 250-entry block: ~72 ms with an object per entry, ~24 ms with a string per entry (~14 ms for one
// string holding everything, which would make `kubectl get -o yaml` unreadable).
//
// Entry format (space-separated, "-" for an absent optional field):
//   <uid> <seq> <namespace/name> <nic> <containerID> <node> <at> <ownerKind/ownerName> <network>
// e.g. "0f6bd1a8-… 17 default/web-0 eth0 9f3c… worker-1 2026-11-21T19:00:00Z StatefulSet/web macvlan".
// None of uid, pod names, interface names, container ids, node names, RFC 3339 times or Kubernetes
// kinds/names contain spaces; the CNI network name may, so it is percent-encoded.
import type { ObjectMeta } from '../v2beta1/meta.js';

export const IPAM_GROUP = 'ipam.spiderpool-ts.io';
export const IPAM_VERSION = 'v1alpha1';
export const IPAM_API_VERSION = `${IPAM_GROUP}/${IPAM_VERSION}` as const;
export const IPAMBLOCK_PLURAL = 'ipamblocks';
/** Label on every block naming its pool, so one pool's blocks are one label-selected list. */
export const LABEL_BLOCK_POOL = `${IPAM_GROUP}/pool`;
/** Addresses per block: an IPv4 /24 or an IPv6 /120. */
export const BLOCK_SIZE = 256;

/** One held address (decoded; stored as the string above). */
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
  /** RFC 3339 time of recording, whole seconds (GC grace period). */
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
  /** Key: the address's offset in the block, "0".."255"; value: an encoded BlockEntry. */
  allocations: Record<string, string>;
}

export interface IPAMBlock {
  apiVersion: typeof IPAM_API_VERSION;
  kind: 'IPAMBlock';
  metadata: ObjectMeta;
  spec: IPAMBlockSpec;
}

const ABSENT = '-';

/**
 * Why `e` cannot be stored (a field empty where required, or holding whitespace that would shift the
 * space-separated fields), or undefined. The writer checks it per mutation: one bad request must
 * fail alone, never corrupt a block or the batch it shares a write with.
 */
export function entryProblem(e: Omit<BlockEntry, 'seq'>): string | undefined {
  // Called once per mutation on the allocation path: plain checks, no per-call objects.
  if (!e.uid) return 'uid is empty';
  if (!e.pod) return 'pod is empty';
  if (!e.nic) return 'nic is empty';
  return spaced('uid', e.uid) ?? spaced('pod', e.pod) ?? spaced('nic', e.nic) ?? spaced('cid', e.cid) ?? spaced('node', e.node) ?? spaced('at', e.at) ?? spaced('ok', e.ok);
}

const WHITESPACE = /\s/;

function spaced(field: string, v: string | undefined): string | undefined {
  return v !== undefined && WHITESPACE.test(v) ? `${field} ${JSON.stringify(v)} contains whitespace` : undefined;
}

export function encodeEntry(e: BlockEntry): string {
  const opt = (v: string | undefined) => (v === undefined || v === '' ? ABSENT : v);
  return [e.uid, String(e.seq), e.pod, e.nic, opt(e.cid), opt(e.node), opt(e.at), opt(e.ok), e.net ? encodeURIComponent(e.net) : ABSENT].join(' ');
}

/** The entry, or an Error that says what is wrong (a block edited by hand, or a newer format). */
export function decodeEntry(text: string): BlockEntry | Error {
  const f = text.split(' ');
  const [uid, seq, pod, nic, cid, node, at, ok, net] = f;
  if (f.length !== 9 || !uid || !pod || !nic || !/^[1-9][0-9]*$/.test(seq ?? '')) {
    return new Error(`malformed IPAMBlock entry "${text.slice(0, 120)}": expected "<uid> <seq> <namespace/name> <nic> <containerID> <node> <at> <owner> <network>"`);
  }
  const e: BlockEntry = { uid, seq: Number(seq), pod, nic };
  if (cid !== ABSENT) e.cid = cid!;
  if (node !== ABSENT) e.node = node!;
  if (at !== ABSENT) e.at = at!;
  if (ok !== ABSENT) e.ok = ok!;
  if (net !== ABSENT) e.net = decodeURIComponent(net!);
  return e;
}

/** The block's entries decoded, by offset; a malformed one is an Error naming the slot. */
export function blockEntries(block: IPAMBlock): { offset: number; entry: BlockEntry | Error }[] {
  return Object.entries(block.spec.allocations ?? {}).map(([key, text]) => {
    const entry = decodeEntry(text);
    return { offset: Number(key), entry: entry instanceof Error ? new Error(`IPAMBlock ${block.metadata.name} slot ${key}: ${entry.message}`) : entry };
  });
}
