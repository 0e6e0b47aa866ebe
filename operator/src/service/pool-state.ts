// The leader's in-memory view of every pool: a PoolAllocator per pool (what is free, what goes out
// next) and an index of the recorded allocations by attachment (pod UID + interface), by pod
// name (StatefulSet identity) and by node (CNI GC). It is a cache of the IPAMBlocks, rebuilt from a
// list of them on start and on every new leadership term, never carried over from memory.
import { type BlockEntry, type IPAMBlock, decodeEntry } from '../api/internal/ipamblock.js';
import type { IPVersion, SpiderIPPool, SpiderReservedIP } from '../api/v2beta1/types.js';
import { PoolAllocator, ResizeConflictError, allocatableSet } from '../core/allocator/index.js';
import { addressAt } from './block-layout.js';

/** One recorded allocation, as the blocks hold it. */
export interface Held {
  pool: string;
  family: IPVersion;
  ip: string;
  entry: BlockEntry;
}

export interface PoolEntry {
  pool: SpiderIPPool;
  family: IPVersion;
  allocator: PoolAllocator;
}

export interface StateProblem {
  pool: string;
  message: string;
}

export class PoolState {
  private readonly pools = new Map<string, PoolEntry>();
  private readonly byIP = new Map<string, Held>();
  private readonly byAttachment = new Map<string, Set<Held>>();
  private readonly byPod = new Map<string, Set<Held>>();
  private readonly byNode = new Map<string, Set<Held>>();

  /**
   * A fresh state from the pools, the reserved IPs and every block. Recorded addresses are claimed
   * whatever the pool spec says now; a record the pool can no longer hand out (spec edited, pool
   * gone) stays indexed so it can still be released, and is reported.
   */
  static rebuild(pools: readonly SpiderIPPool[], reserved: readonly SpiderReservedIP[], blocks: readonly IPAMBlock[]): { state: PoolState; problems: StateProblem[] } {
    const state = new PoolState();
    const problems: StateProblem[] = [];
    const reservedIPs = reservedAddresses(reserved);
    for (const p of pools) {
      const err = state.upsertPool(p, reservedIPs);
      if (err !== undefined) problems.push({ pool: p.metadata.name ?? '', message: err });
    }
    for (const b of blocks) {
      const family: IPVersion = b.spec.cidr.includes(':') ? 6 : 4;
      for (const [key, text] of Object.entries(b.spec.allocations)) {
        const ip = addressAt(family, b.spec.cidr, Number(key));
        const p = state.pools.get(b.spec.pool);
        const entry = decodeEntry(text);
        if (entry instanceof Error) {
          // Unreadable, but recorded: nobody else may get the address until a human fixes the block.
          if (p !== undefined) tryClaim(p.allocator, ip);
          problems.push({ pool: b.spec.pool, message: `block ${b.metadata.name} slot ${key} (${ip}): ${entry.message}` });
          continue;
        }
        state.add({ pool: b.spec.pool, family, ip, entry });
        try {
          p?.allocator.claim(ip);
        } catch (e) {
          problems.push({ pool: b.spec.pool, message: `recorded ${ip} (pod ${entry.pod}) is not allocatable in the pool now: ${(e as Error).message}` });
        }
        if (p === undefined) problems.push({ pool: b.spec.pool, message: `block ${b.metadata.name} records ${ip} for pod ${entry.pod} of a pool that does not exist` });
      }
    }
    return { state, problems };
  }

  pool(name: string): PoolEntry | undefined {
    return this.pools.get(name);
  }

  /**
   * Adds a pool or applies a spec change. The allocator is resized, keeping every held address; a
   * change that would drop a held address is refused (returned as a message) and the old set stays.
   */
  upsertPool(pool: SpiderIPPool, reservedIPs: readonly string[]): string | undefined {
    const name = pool.metadata.name ?? '';
    let set;
    try {
      set = allocatableSet({ ...pool.spec, ips: pool.spec.ips ?? [], reserved: reservedIPs });
    } catch (e) {
      return `pool ${name}: invalid spec: ${(e as Error).message}`;
    }
    const current = this.pools.get(name);
    if (current === undefined) {
      const allocator = new PoolAllocator(set);
      for (const h of this.byIP.values()) if (h.pool === name) tryClaim(allocator, h.ip);
      this.pools.set(name, { pool, family: set.family, allocator });
      return undefined;
    }
    try {
      const allocator = set.family === current.family ? current.allocator.resize(set) : new PoolAllocator(set);
      this.pools.set(name, { pool, family: set.family, allocator });
      return undefined;
    } catch (e) {
      this.pools.set(name, { ...current, pool });
      if (e instanceof ResizeConflictError) return `pool ${name}: spec change not applied to the allocator: ${e.message}`;
      throw e;
    }
  }

  removePool(name: string): void {
    this.pools.delete(name);
  }

  forAttachment(uid: string, nic: string): Held[] {
    return [...(this.byAttachment.get(`${uid}/${nic}`) ?? [])];
  }

  forPod(namespace: string, name: string): Held[] {
    return [...(this.byPod.get(`${namespace}/${name}`) ?? [])];
  }

  /** `namespace/name` of every pod with a record. */
  podKeys(): string[] {
    return [...this.byPod.keys()];
  }

  forNode(node: string): Held[] {
    return [...(this.byNode.get(node) ?? [])];
  }

  get(pool: string, ip: string): Held | undefined {
    return this.byIP.get(`${pool}/${ip}`);
  }

  /** Indexes a recorded allocation (ours just committed, or another writer's seen in a block). */
  add(h: Held): void {
    const prev = this.byIP.get(`${h.pool}/${h.ip}`);
    if (prev !== undefined) this.unindex(prev);
    this.byIP.set(`${h.pool}/${h.ip}`, h);
    addTo(this.byAttachment, `${h.entry.uid}/${h.entry.nic}`, h);
    addTo(this.byPod, h.entry.pod, h);
    if (h.entry.node) addTo(this.byNode, h.entry.node, h);
  }

  /** Drops a released allocation from the index and frees its address. */
  remove(h: Held): void {
    const cur = this.byIP.get(`${h.pool}/${h.ip}`);
    if (cur === undefined || cur.entry.seq !== h.entry.seq || cur.entry.uid !== h.entry.uid) return;
    this.unindex(cur);
    this.pools.get(h.pool)?.allocator.release(h.ip);
  }

  /** Counts per pool, from the allocators. */
  counts(name: string): { allocated: number; total: bigint; free: bigint } | undefined {
    const p = this.pools.get(name);
    return p && { allocated: p.allocator.allocatedCount, total: p.allocator.totalCount, free: p.allocator.freeCount };
  }

  private unindex(h: Held): void {
    this.byIP.delete(`${h.pool}/${h.ip}`);
    removeFrom(this.byAttachment, `${h.entry.uid}/${h.entry.nic}`, h);
    removeFrom(this.byPod, h.entry.pod, h);
    if (h.entry.node) removeFrom(this.byNode, h.entry.node, h);
  }
}

/** Every reserved address of the cluster; allocatableSet keeps only the pool's family. */
export function reservedAddresses(reserved: readonly SpiderReservedIP[]): string[] {
  return reserved.flatMap((r) => r.spec.ips ?? []);
}

function tryClaim(allocator: PoolAllocator, ip: string): void {
  try {
    allocator.claim(ip);
  } catch {
    // Outside the pool's current set: still indexed (releasable), just not an allocator offset.
  }
}

function addTo(m: Map<string, Set<Held>>, key: string, h: Held): void {
  let s = m.get(key);
  if (s === undefined) m.set(key, (s = new Set()));
  s.add(h);
}

function removeFrom(m: Map<string, Set<Held>>, key: string, h: Held): void {
  const s = m.get(key);
  if (s === undefined) return;
  s.delete(h);
  if (s.size === 0) m.delete(key);
}
