// Race-free carving: changes to a SpiderSubnet's ledger (status.controlledIPPools) are applied one
// after another by this (leader) process, group-committed per subnet, AND written with the subnet's
// resourceVersion, so
// two workloads carved at once never get overlapping ranges, and a second writer (a stale leader,
// a human) makes the write fail and be recomputed rather than be overwritten. The counts
// (total/allocated/free) are rewritten with every ledger change.
import type { PoolIPPreAllocations } from '../../api/v2beta1/types.js';
import { carvableSet, formatControlledIPPools, parseControlledIPPools, subnetCounts } from '../../core/subnet/index.js';
import { mergeConditions, subnetConditionFacts, wantedConditions } from '../pool-conditions.js';
import { type AutoPoolIO, ConflictError, type SubnetObject } from './kube-io.js';

const MAX_ATTEMPTS = 8;

/** What a ledger change computes: the new ledger (undefined = no write) and a result for the caller. */
export interface LedgerChange<R> {
  ledger?: PoolIPPreAllocations;
  result: R;
}

interface Pending {
  change: (subnet: SubnetObject, ledger: PoolIPPreAllocations, reserved: string[]) => LedgerChange<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class SubnetLedger {
  /** Changes waiting for their subnet's next write; one batch per subnet in flight at a time. */
  private readonly queues = new Map<string, Pending[]>();
  private readonly draining = new Set<string>();

  constructor(
    private readonly io: AutoPoolIO,
    /** Every SpiderReservedIP address of the cluster (carving leaves them out). */
    private readonly reserved: () => string[],
  ) {}

  /**
   * Runs `change` against the subnet's current ledger and writes what it returns. Changes queued
   * while a write is in flight are group-committed: one read, each change applied in order to the
   * ledger the previous one left, one CAS write (100 workloads created at once cost a few round
   * trips, not 100 serial ones). Retried from a fresh read when the subnet changed meanwhile.
   * undefined when the subnet does not exist; a change that throws fails alone.
   */
  update<R>(subnetName: string, change: (subnet: SubnetObject, ledger: PoolIPPreAllocations, reserved: string[]) => LedgerChange<R>): Promise<R | undefined> {
    return new Promise<R | undefined>((resolve, reject) => {
      const q = this.queues.get(subnetName) ?? [];
      q.push({ change, resolve: resolve as (v: unknown) => void, reject });
      this.queues.set(subnetName, q);
      if (!this.draining.has(subnetName)) void this.drain(subnetName);
    });
  }

  private async drain(subnetName: string): Promise<void> {
    this.draining.add(subnetName);
    try {
      // Let the callers of this event-loop turn join the first batch.
      await new Promise((r) => setImmediate(r));
      for (let batch = this.take(subnetName); batch.length > 0; batch = this.take(subnetName)) await this.commit(subnetName, batch);
    } finally {
      this.draining.delete(subnetName);
      if ((this.queues.get(subnetName)?.length ?? 0) > 0) void this.drain(subnetName);
    }
  }

  private take(subnetName: string): Pending[] {
    const batch = this.queues.get(subnetName) ?? [];
    this.queues.delete(subnetName);
    return batch;
  }

  private async commit(subnetName: string, batch: Pending[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let subnet: SubnetObject | undefined;
      try {
        subnet = await this.io.getSubnet(subnetName);
      } catch (e) {
        for (const p of batch) p.reject(e);
        return;
      }
      if (subnet === undefined) {
        for (const p of batch) p.resolve(undefined);
        return;
      }
      const parsed = parseControlledIPPools(subnet.status?.controlledIPPools);
      if (!parsed.ok) {
        const e = new Error(`SpiderSubnet ${subnetName}: ${parsed.message}; fix or clear the status to let auto pools be carved`);
        for (const p of batch) p.reject(e);
        return;
      }
      const reserved = this.reserved();
      let next = parsed.value;
      const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
      for (const p of batch) {
        try {
          const c = p.change(subnet, next, reserved);
          if (c.ledger !== undefined) next = c.ledger;
          outcomes.push({ ok: true, value: c.result });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
      const settle = () => batch.forEach((p, i) => {
        const o = outcomes[i]!;
        if (o.ok) p.resolve(o.value);
        else p.reject(o.error);
      });
      try {
        const counts = subnetCounts(carvableSet(subnet.spec, reserved), next);
        const text = formatControlledIPPools(next);
        const st = subnet.status ?? {};
        // Ready / Exhausted with observedGeneration (../pool-conditions.ts), written with the counts.
        const conditions = mergeConditions(st.conditions, wantedConditions(subnetConditionFacts(subnet, counts)), new Date());
        if (
          text === (st.controlledIPPools ?? '{}') &&
          st.totalIPCount === counts.totalIPCount &&
          st.allocatedIPCount === counts.allocatedIPCount &&
          st.freeIPCount === counts.freeIPCount &&
          conditions === undefined
        ) {
          settle();
          return;
        }
        await this.io.replaceSubnetStatus({ ...subnet, status: { ...st, controlledIPPools: text, ...counts, ...(conditions ? { conditions } : {}) } });
        settle();
        return;
      } catch (e) {
        if (e instanceof ConflictError && attempt < MAX_ATTEMPTS) continue;
        for (const p of batch) p.reject(e);
        return;
      }
    }
  }
}
