// The history controller (ADR 0011), leader-only: follows the IPAMBlock cache the derived views
// already keep, and appends to one IPAMHistory per block who held which address, since when, until
// when. Nothing on the allocation path: the allocator never sees it, and its writes go to other
// objects than the blocks (no resourceVersion conflict with a group commit).
//
// Two inputs per block: the watch's diffs (each update compared entry by entry: an entry that went
// or was replaced is "observed" with the time it went, a new one with its recording time), kept in
// memory until the next write so a holder that came and went between two writes is not lost; and
// the level (the block's current entries), so a restart or a missed event converges: open holders
// that no longer hold are closed, current ones are open. At most one write per block per
// minWriteIntervalMs (a rollout's commits are batched into one history write).
import type { BlockEntry } from '../api/internal/ipamblock.js';
import { decodeEntry } from '../api/internal/ipamblock.js';
import type { BlockObject } from '../controllers/informers.js';
import { Controller, type ControllerOptions, type Reconcile, type Source } from '../framework/controller.js';
import type { Informer } from '../framework/informer.js';
import type { Logger } from '../framework/logger.js';
import type { HistoryIO } from './kube-io.js';
import { DEFAULT_HISTORY_DEPTH, HISTORY_API_VERSION, type Holder, type IPAMHistory, MAX_HISTORY_DEPTH, holderOf, mergeHistory, rfc3339 } from './record.js';

export const HISTORY_CONTROLLER = 'ip-history';

export interface HistoryControllerOptions {
  blocks: Informer<BlockObject>;
  io: HistoryIO;
  log: Logger;
  /** Holders kept per address (1..16); default 5. */
  depth?: number;
  /** At most one write per block per this interval; default 1000 ms. */
  minWriteIntervalMs?: number;
  /** Observed holders kept in memory for blocks not yet written (bounded; oldest blocks dropped). */
  maxPendingBlocks?: number;
  onResult?: ControllerOptions['onResult'];
  now?: () => Date;
}

/** Observed holders per block and offset, waiting for the block's next history write. */
type Pending = Map<string, Map<number, Holder[]>>;

export function newHistoryController(o: HistoryControllerOptions): Controller {
  const depth = Math.min(Math.max(1, o.depth ?? DEFAULT_HISTORY_DEPTH), MAX_HISTORY_DEPTH);
  const minInterval = o.minWriteIntervalMs ?? 1000;
  const maxPending = o.maxPendingBlocks ?? 10_000;
  const now = o.now ?? (() => new Date());
  const pending: Pending = new Map();
  /** The pool of each block seen (a deleted block's history still needs its pool name and cidr). */
  const seen = new Map<string, { pool: string; poolUID?: string; cidr: string }>();
  const lastWrite = new Map<string, number>();

  const observe = (block: string, offset: number, h: Holder) => {
    let slots = pending.get(block);
    if (slots === undefined) {
      if (pending.size >= maxPending) pending.delete(pending.keys().next().value!);
      slots = new Map();
      pending.set(block, slots);
    }
    const list = slots.get(offset);
    if (list === undefined) slots.set(offset, [h]);
    else {
      const have = list.find((x) => x.uid === h.uid && x.seq === h.seq);
      if (have === undefined) list.push(h);
      else if (h.until !== undefined) have.until = h.until;
    }
  };

  /** Diffs one block update into `pending`: cheap string compares, decoding only what changed. */
  const diff = (before: BlockObject | undefined, after: BlockObject | undefined) => {
    const name = (after ?? before)?.metadata?.name ?? '';
    const a = before?.spec?.allocations ?? {};
    const b = after?.spec?.allocations ?? {};
    const at = rfc3339(now());
    for (const [key, text] of Object.entries(a)) {
      if (b[key] === text) continue;
      const e = decodeEntry(text);
      if (e instanceof Error) continue;
      const next = b[key] === undefined ? undefined : decodeEntry(b[key]);
      // The same holder rewritten (re-ADD refreshed its container id): not a change of holder.
      if (next !== undefined && !(next instanceof Error) && next.uid === e.uid && next.seq === e.seq) continue;
      observe(name, Number(key), { ...holderOf(e), until: at });
    }
    for (const [key, text] of Object.entries(b)) {
      if (a[key] === text) continue;
      const e = decodeEntry(text);
      if (!(e instanceof Error)) observe(name, Number(key), holderOf(e));
    }
  };

  const remember = (b: BlockObject) => {
    if (b.metadata?.name && b.spec?.pool) seen.set(b.metadata.name, { pool: b.spec.pool, ...(b.spec.poolUID ? { poolUID: b.spec.poolUID } : {}), cidr: b.spec.cidr });
  };

  const source: Source = {
    subscribe(enqueue) {
      return o.blocks.addEventHandler({
        add: (b) => {
          remember(b);
          enqueue(b.metadata?.name ?? '');
        },
        update: (before, after) => {
          if (before === after) return; // periodic resync: the level pass runs at (re)start
          remember(after);
          diff(before, after);
          enqueue(after.metadata?.name ?? '');
        },
        delete: (b) => {
          remember(b);
          diff(b, undefined);
          enqueue(b.metadata?.name ?? '');
        },
      });
    },
    keys: () => o.blocks.list().map((b) => b.metadata?.name ?? ''),
    hasSynced: () => o.blocks.hasSynced(),
  };

  const reconcile: Reconcile = async (name, { log }) => {
    const block = o.blocks.get(name);
    const ident = block ? { pool: block.spec.pool, ...(block.spec.poolUID ? { poolUID: block.spec.poolUID } : {}), cidr: block.spec.cidr } : seen.get(name);
    const observed = pending.get(name) ?? new Map<number, Holder[]>();
    if (ident === undefined) {
      pending.delete(name);
      return;
    }
    const since = performance.now() - (lastWrite.get(name) ?? -Infinity);
    if (since < minInterval) return { requeueAfterMs: Math.ceil(minInterval - since) };

    const entries = new Map<number, BlockEntry>();
    for (const [key, text] of Object.entries(block?.spec?.allocations ?? {})) {
      const e = decodeEntry(text);
      if (!(e instanceof Error)) entries.set(Number(key), e);
    }
    let current = await o.io.get(name);
    // A pool recreated under the same name is another pool: its addresses start a new history.
    if (current !== undefined && ident.poolUID !== undefined && current.spec.poolUID !== undefined && current.spec.poolUID !== ident.poolUID) {
      log.info('history of a previous pool of the same name replaced', { pool: ident.pool, block: name });
      current = { ...current, spec: { ...current.spec, poolUID: ident.poolUID, holders: {} } };
    }
    // A block gone with no history to append to: most likely its pool was deleted (the garbage
    // collector removes blocks and histories with it); creating one would only be collected again.
    if (current === undefined && (block === undefined || (entries.size === 0 && observed.size === 0))) {
      pending.delete(name);
      if (block === undefined) seen.delete(name);
      return;
    }
    const merged = mergeHistory(current?.spec.holders ?? {}, entries, observed, now(), depth);
    const sameIdentity = current !== undefined && current.spec.depth === depth && current.spec.poolUID === ident.poolUID;
    if (merged.changed === 0 && sameIdentity) {
      pending.delete(name);
      if (block === undefined) seen.delete(name);
      return;
    }
    const body: IPAMHistory = {
      apiVersion: HISTORY_API_VERSION,
      kind: 'IPAMHistory',
      metadata: {
        name,
        ...(current?.metadata.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
        labels: { ...(current?.metadata.labels ?? {}), ...(block?.metadata?.labels ?? {}) },
        // Deleted with the pool by the garbage collector: bounded by the pools that exist.
        ...(ident.poolUID ? { ownerReferences: [{ apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderIPPool', name: ident.pool, uid: ident.poolUID }] } : {}),
      },
      spec: { pool: ident.pool, ...(ident.poolUID ? { poolUID: ident.poolUID } : {}), cidr: ident.cidr, depth, holders: merged.holders },
    };
    lastWrite.set(name, performance.now());
    // Observed holders written now; new ones the watch adds meanwhile stay for the next write.
    pending.delete(name);
    try {
      if (current === undefined) await o.io.create(body);
      else await o.io.replace(body);
    } catch (e) {
      // Put back what this write carried (merged with anything observed meanwhile) and retry.
      for (const [offset, list] of observed) for (const h of list) observe(name, offset, h);
      throw e;
    }
    if (block === undefined) seen.delete(name);
    log.debug('history written', { block: name, pool: ident.pool, changed: merged.changed });
  };

  return new Controller({ name: HISTORY_CONTROLLER, reconcile, sources: [source], workers: 2, log: o.log, ...(o.onResult ? { onResult: o.onResult } : {}) });
}
