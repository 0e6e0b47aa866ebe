// Per-namespace IP quota (issue #5 item 6, ADR 0007): a Namespace annotation
//   ipam.spiderpool-ts.io/ip-quota: '{"subnet-a": 50, "*": 200}'
// limits how many addresses pods of the namespace may hold from the pools of each named SpiderSubnet
// ("*": from all pools together). A pool belongs to a SpiderSubnet by its controller owner reference,
// its `ipam.spidernet.io/owner-spider-subnet` label, or an equal spec.subnet. Checked by the allocator
// before a fresh address is taken (re-used addresses are already counted); candidate pools whose
// subnet is at its limit are skipped, and when none is left the allocation fails with
// RESOURCE_EXHAUSTED naming the quota, and the pod gets a Warning event.
//
// Exact under concurrency: the check and an in-flight reservation happen in one synchronous step, and
// the reservation is dropped only after the allocation is in the pool state (or failed).
// Cost: nothing for a namespace without the annotation; otherwise one pass over the namespace's
// recorded allocations per allocation.
import type { V1Namespace } from '@kubernetes/client-node';
import { LABEL_IPPOOL_OWNER_SPIDER_SUBNET } from '../api/v2beta1/constants.js';
import type { SpiderIPPool, SpiderSubnet } from '../api/v2beta1/types.js';
import type { Candidate } from '../core/selection/index.js';
import { ErrorReason, GrpcCode } from '../rpc/errors.js';
import { IpamError } from './errors.js';
import type { PoolState } from './pool-state.js';

export const ANNO_NS_IP_QUOTA = 'ipam.spiderpool-ts.io/ip-quota';
/** Quota key that counts every pool. */
export const ALL_SUBNETS = '*';

export type Quota = ReadonlyMap<string, number>;

/** The annotation's limits, or a message naming what is wrong and the expected form. */
export function parseQuota(text: string): Quota | string {
  const expected = `expected a JSON object of SpiderSubnet name (or "${ALL_SUBNETS}") to a whole number of addresses, e.g. '{"subnet-a": 50}'`;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return `Namespace annotation ${ANNO_NS_IP_QUOTA}: not JSON (${(e as Error).message}); ${expected}`;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return `Namespace annotation ${ANNO_NS_IP_QUOTA}: ${expected}`;
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return `Namespace annotation ${ANNO_NS_IP_QUOTA}: "${k}": ${JSON.stringify(v)} is not a whole number >= 0; ${expected}`;
    out.set(k, v);
  }
  return out;
}

/** The SpiderSubnet name a pool belongs to, if any. */
export function poolSubnet(pool: SpiderIPPool, subnets: readonly SpiderSubnet[]): string | undefined {
  const owner = pool.metadata.ownerReferences?.find((o) => o.kind === 'SpiderSubnet' && o.controller)?.name;
  return owner ?? pool.metadata.labels?.[LABEL_IPPOOL_OWNER_SPIDER_SUBNET] ?? subnets.find((s) => s.spec.subnet === pool.spec.subnet)?.metadata.name;
}

export interface QuotaExceeded {
  namespace: string;
  pod: { namespace: string; name: string; uid: string };
  /** The quota key that stopped the allocation (a subnet name or "*"). */
  subnet: string;
  limit: number;
  held: number;
  message: string;
}

export interface NamespaceQuotaOptions {
  namespace(name: string): V1Namespace | undefined;
  subnets(): SpiderSubnet[];
  /** Told of every refusal (the operator posts an Event on the pod). */
  onExceeded?(e: QuotaExceeded): void;
}

export interface QuotaReservation {
  candidates: Candidate[];
  release(): void;
}

const NOTHING = (): void => undefined;

export class NamespaceQuota {
  private readonly inflight = new Map<string, number>();

  constructor(private readonly opts: NamespaceQuotaOptions) {}

  /**
   * The candidates the namespace may still take an address from, with a reservation to release once
   * the allocation is recorded or has failed. Throws RESOURCE_EXHAUSTED when the quota leaves none.
   */
  reserve(pod: { namespace: string; name: string; uid: string }, candidates: readonly Candidate[], state: PoolState): QuotaReservation {
    const text = this.opts.namespace(pod.namespace)?.metadata?.annotations?.[ANNO_NS_IP_QUOTA];
    if (text === undefined) return { candidates: [...candidates], release: NOTHING };
    const quota = parseQuota(text);
    if (typeof quota === 'string') throw new IpamError(GrpcCode.FAILED_PRECONDITION, ErrorReason.QuotaExceeded, `${quota}; fix the annotation`, { namespace: pod.namespace });

    const subnets = this.opts.subnets();
    const subnetOf = new Map<string, string | undefined>();
    const keysOf = (pool: SpiderIPPool): string[] => {
      const name = pool.metadata.name ?? '';
      if (!subnetOf.has(name)) subnetOf.set(name, poolSubnet(pool, subnets));
      const s = subnetOf.get(name);
      return [...(s !== undefined && quota.has(s) ? [s] : []), ...(quota.has(ALL_SUBNETS) ? [ALL_SUBNETS] : [])];
    };
    const used = this.heldBy(pod.namespace, state, quota, (p) => {
      const entry = state.pool(p);
      return entry ? keysOf(entry.pool) : [];
    });

    const kept: Candidate[] = [];
    let stop: QuotaExceeded | undefined;
    for (const c of candidates) {
      const over = keysOf(c.pool).find((k) => (used.get(k) ?? 0) + this.pending(pod.namespace, k) >= quota.get(k)!);
      if (over === undefined) {
        kept.push(c);
        continue;
      }
      const held = used.get(over) ?? 0;
      const limit = quota.get(over)!;
      const scope = over === ALL_SUBNETS ? 'from all pools' : `from SpiderSubnet ${over}`;
      stop ??= {
        namespace: pod.namespace,
        pod,
        subnet: over,
        limit,
        held,
        message: `namespace ${pod.namespace} holds ${held} of its quota of ${limit} IPs ${scope} (Namespace annotation ${ANNO_NS_IP_QUOTA}); release addresses or raise the quota`,
      };
    }
    if (kept.length === 0 && stop !== undefined) {
      this.opts.onExceeded?.(stop);
      throw new IpamError(GrpcCode.RESOURCE_EXHAUSTED, ErrorReason.QuotaExceeded, stop.message, { namespace: pod.namespace, subnet: stop.subnet, limit: String(stop.limit) });
    }
    const keys = new Set(kept.flatMap((c) => keysOf(c.pool)));
    for (const k of keys) this.bump(pod.namespace, k, 1);
    let released = false;
    return {
      candidates: kept,
      release: () => {
        if (released) return;
        released = true;
        for (const k of keys) this.bump(pod.namespace, k, -1);
      },
    };
  }

  /** Addresses the namespace's pods hold, per quota key. */
  private heldBy(namespace: string, state: PoolState, quota: Quota, keysOfPool: (pool: string) => string[]): Map<string, number> {
    const used = new Map<string, number>();
    const prefix = `${namespace}/`;
    for (const podKey of state.podKeys()) {
      if (!podKey.startsWith(prefix)) continue;
      for (const h of state.forPod(namespace, podKey.slice(prefix.length))) for (const k of keysOfPool(h.pool)) if (quota.has(k)) used.set(k, (used.get(k) ?? 0) + 1);
    }
    return used;
  }

  private pending(namespace: string, key: string): number {
    return this.inflight.get(`${namespace}\u0000${key}`) ?? 0;
  }

  private bump(namespace: string, key: string, by: number): void {
    const k = `${namespace}\u0000${key}`;
    const n = (this.inflight.get(k) ?? 0) + by;
    if (n <= 0) this.inflight.delete(k);
    else this.inflight.set(k, n);
  }
}
