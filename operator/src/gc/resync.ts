// The leader's in-memory records against a fresh list of the IPAMBlocks, at every GC scan. The blocks
// are the authority (ADR 0005); memory drifts from them only when someone else writes them: `ipam
// check --release` freeing a leak, a human editing a block, another writer. Without this step an
// address freed outside the leader would stay taken in its allocator until the next leadership term.
//
// Safe in both directions because every write is a CAS on the block: an address forgotten here that
// is in fact held makes the next allocation of it come back "taken" (and re-learned); a record
// learned here that is in fact gone makes its release come back "not held". Records younger than the
// margin are left alone: the list may predate our own last writes.
import { type BlockEntry, type IPAMBlock, decodeEntry } from '../api/internal/ipamblock.js';
import { addressAt } from '../service/block-layout.js';
import type { Held, PoolState } from '../service/pool-state.js';

export interface ResyncResult {
  /** In memory, no longer in the blocks: dropped, their addresses free again. */
  forgotten: Held[];
  /** In the blocks, not in memory: indexed (and claimed) so the GC judges them too. */
  learned: Held[];
}

export function resyncState(state: PoolState, blocks: readonly IPAMBlock[], listedAtMs: number, marginMs: number): ResyncResult {
  const listed = new Map<string, Held>();
  for (const b of blocks) {
    const family = b.spec.cidr.includes(':') ? 6 : 4;
    for (const [key, text] of Object.entries(b.spec.allocations ?? {})) {
      const entry = decodeEntry(text);
      if (entry instanceof Error) continue;
      let ip: string;
      try {
        ip = addressAt(family, b.spec.cidr, Number(key));
      } catch {
        continue;
      }
      listed.set(`${b.spec.pool}/${ip}`, { pool: b.spec.pool, family, ip, entry });
    }
  }
  const old = (e: BlockEntry) => e.at === undefined || Date.parse(e.at) < listedAtMs - marginMs;
  const same = (a: BlockEntry, b: BlockEntry) => a.uid === b.uid && a.seq === b.seq;

  const forgotten: Held[] = [];
  const learned: Held[] = [];
  for (const key of state.podKeys()) {
    const [namespace = '', name = ''] = splitOnce(key);
    for (const h of state.forPod(namespace, name)) {
      const now = listed.get(`${h.pool}/${h.ip}`);
      if ((now === undefined || !same(now.entry, h.entry)) && old(h.entry)) {
        state.remove(h);
        forgotten.push(h);
      }
    }
  }
  for (const h of listed.values()) {
    if (state.get(h.pool, h.ip) !== undefined || !old(h.entry)) continue;
    state.add(h);
    try {
      state.pool(h.pool)?.allocator.claim(h.ip);
    } catch {
      // already claimed (forgotten above, still reserved) or outside the pool's current set
    }
    learned.push(h);
  }
  return { forgotten, learned };
}

function splitOnce(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}
