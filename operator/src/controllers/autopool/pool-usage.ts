// What the auto-pool controller needs from the allocator (same leader process): which addresses of
// a pool are held right now, and a way to take addresses out of the allocator BEFORE the pool's
// spec loses them, so a shrink can never remove an address an ADD is handing out at that moment.
import type { SpiderIPPool } from '../../api/v2beta1/types.js';
import { IPSet } from '../../core/ip/index.js';
import type { AllocatorService } from '../../service/allocator-service.js';
import { reservedAddresses } from '../../service/pool-state.js';
import type { SpiderReservedIP } from '../../api/v2beta1/types.js';

export interface PoolUsage {
  /** Held addresses of the pool; undefined when the allocator does not serve it (yet). */
  held(pool: string): IPSet | undefined;
  /** The addresses the allocator may hand out for the pool now; undefined when it does not serve it. */
  served(pool: string): IPSet | undefined;
  /** Held count; undefined when unknown. */
  allocated(pool: string): number | undefined;
  /**
   * Applies the pool's new (smaller) spec to the allocator synchronously. Returns a problem when the
   * allocator refuses (an address of the removed part is held).
   */
  withdraw(pool: SpiderIPPool): string | undefined;
}

export function allocatorPoolUsage(service: AllocatorService, reservedIPs: () => SpiderReservedIP[]): PoolUsage {
  return {
    held(name) {
      const p = service.poolState?.pool(name);
      if (p === undefined) return undefined;
      return IPSet.parse(p.family, [...p.allocator.allocated()]);
    },
    served(name) {
      return service.poolState?.pool(name)?.allocator.set;
    },
    allocated(name) {
      const state = service.poolState;
      if (state === undefined) return undefined;
      return state.counts(name)?.allocated ?? 0;
    },
    withdraw(pool) {
      const state = service.poolState;
      if (state === undefined) return 'the allocator is not serving';
      if (state.pool(pool.metadata.name ?? '') === undefined) return `pool ${pool.metadata.name} is not loaded into the allocator`;
      return state.upsertPool(pool, reservedAddresses(reservedIPs()));
    },
  };
}
