// Race-free carving: every change to a SpiderSubnet's ledger (status.controlledIPPools) runs under
// a per-subnet lock in this (leader) process AND is written with the subnet's resourceVersion, so
// two workloads carved at once never get overlapping ranges, and a second writer (a stale leader,
// a human) makes the write fail and be recomputed rather than be overwritten. The counts
// (total/allocated/free) are rewritten with every ledger change.
import type { PoolIPPreAllocations } from '../../api/v2beta1/types.js';
import { carvableSet, formatControlledIPPools, parseControlledIPPools, subnetCounts } from '../../core/subnet/index.js';
import { KeyedMutex } from '../../service/keyed-mutex.js';
import { mergeConditions, subnetConditionFacts, wantedConditions } from '../pool-conditions.js';
import { type AutoPoolIO, ConflictError, type SubnetObject } from './kube-io.js';

const MAX_ATTEMPTS = 8;

/** What a ledger change computes: the new ledger (undefined = no write) and a result for the caller. */
export interface LedgerChange<R> {
  ledger?: PoolIPPreAllocations;
  result: R;
}

export class SubnetLedger {
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly io: AutoPoolIO,
    /** Every SpiderReservedIP address of the cluster (carving leaves them out). */
    private readonly reserved: () => string[],
  ) {}

  /**
   * Runs `change` against the subnet's current ledger and writes what it returns. Retried from a
   * fresh read when the subnet changed meanwhile. undefined when the subnet does not exist.
   */
  async update<R>(subnetName: string, change: (subnet: SubnetObject, ledger: PoolIPPreAllocations, reserved: string[]) => LedgerChange<R>): Promise<R | undefined> {
    return this.locks.run(subnetName, async () => {
      for (let attempt = 1; ; attempt++) {
        const subnet = await this.io.getSubnet(subnetName);
        if (subnet === undefined) return undefined;
        const parsed = parseControlledIPPools(subnet.status?.controlledIPPools);
        if (!parsed.ok) throw new Error(`SpiderSubnet ${subnetName}: ${parsed.message}; fix or clear the status to let auto pools be carved`);
        const reserved = this.reserved();
        const { ledger, result } = change(subnet, parsed.value, reserved);
        const next = ledger ?? parsed.value;
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
          return result;
        }
        try {
          await this.io.replaceSubnetStatus({ ...subnet, status: { ...st, controlledIPPools: text, ...counts, ...(conditions ? { conditions } : {}) } });
          return result;
        } catch (e) {
          if (e instanceof ConflictError && attempt < MAX_ATTEMPTS) continue;
          throw e;
        }
      }
    });
  }
}
