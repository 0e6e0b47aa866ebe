// The bounded label values. A reason outside these lists is exported as the list's catch-all, so a
// new error path can never grow a metric's series without bound.
import { ErrorReason } from '../rpc/errors.js';

/** RPC failure reasons: the ErrorInfo reasons of rpc/errors.ts, and `internal` for anything else. */
export const RPC_FAILURE_REASONS: readonly string[] = [...Object.values(ErrorReason), 'internal'];

/**
 * Why the garbage collector released an address. The GC calls `metrics.gc.released(reason)` with one of these;
 * add a reason here (and it appears in docs/metrics.md) rather than passing free text.
 */
export const GC_REASONS = {
  /** The pod object is gone and its CNI DEL never came (pod-release controller). */
  PodDeleted: 'pod-deleted',
  /** The runtime's CNI GC listed the attachments it still has; ours not among them. */
  CniGc: 'cni-gc',
  /** The pod finished (Succeeded/Failed) but still held addresses. */
  PodFinished: 'pod-finished',
  /** The record names a pod UID other than the live pod of that name (gc/decide.ts's reasons). */
  UidMismatch: 'uid-mismatch',
  /** The pod is Terminating past its grace period (+ delay) on a Ready node. */
  TerminatingOnReadyNode: 'terminating-on-ready-node',
  /** The pod is Terminating past its grace period (+ delay) on a NotReady node. */
  TerminatingOnNotReadyNode: 'terminating-on-not-ready-node',
  /** Any other reason (catch-all). */
  Other: 'other',
} as const;
export type GcReason = (typeof GC_REASONS)[keyof typeof GC_REASONS];

/** Controller result label values. */
export const RECONCILE_RESULTS = ['success', 'error'] as const;
