// What the hot paths (allocator service, group committer) and the garbage collector call, as
// interfaces with no-op defaults: those modules depend on this file only, not on prom-client.
import type { GcReason } from './reasons.js';

/** Counts, times and classifies one kind of RPC (Allocate, Release). */
export interface RpcMetrics {
  /** Runs fn: counts the request, then its duration (success) or its failure reason (error). */
  measure<T>(fn: () => Promise<T>): Promise<T>;
}

/** What the group committer reports per successful IPAMBlock write. */
export interface CommitterMetrics {
  written(batchSize: number, seconds: number): void;
}

/** For the garbage collector: every address it frees, or fails to free, with why. */
export interface GcMetrics {
  released(reason: GcReason, count?: number): void;
  failed(reason: GcReason, count?: number): void;
}

export const noopRpcMetrics: RpcMetrics = { measure: (fn) => fn() };
export const noopCommitterMetrics: CommitterMetrics = { written: () => {} };
export const noopGcMetrics: GcMetrics = { released: () => {}, failed: () => {} };
