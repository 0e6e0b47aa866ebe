// Group commit of allocation records into IPAMBlocks (ADR 0005).
//
// Per block, at most one write is in flight. Mutations submitted meanwhile queue up and go out
// together in the next write, so N concurrent allocations landing in one block cost about
// N / (writes that fit in the time of one) writes instead of N. A mutation's promise resolves only
// after the write carrying it succeeded: the caller answers its RPC after the record is durable.
//
// Every write is a compare-and-swap on the block's resourceVersion. On conflict (another writer —
// a second operator that also believes it leads — moved first) the block is re-read and the whole
// batch re-validated against it: an address that someone else now holds fails that one mutation
// (the caller picks another address), the rest are written. Retries back off with jitter and are
// bounded; when they run out the batch fails with an error naming the block.
import { BLOCK_SIZE, IPAM_API_VERSION, LABEL_BLOCK_POOL, decodeEntry, encodeEntry, entryProblem, type BlockEntry, type IPAMBlock } from '../api/internal/ipamblock.js';
import { BlockConflict, type BlockIO } from './block-client.js';
import { type BlockRef, poolLabelValue } from './block-layout.js';
import type { CommitterMetrics } from '../metrics/hooks.js';

export type Mutation =
  | { op: 'allocate'; offset: number; entry: Omit<BlockEntry, 'seq'> }
  | { op: 'release'; offset: number; uid: string; seq: number }
  /**
   * Rewrites fields of the entry (uid, seq) in place, keeping its seq: a re-ADD from a new sandbox
   * records its container id, a recreated StatefulSet pod takes over its predecessor's entry.
   */
  | { op: 'update'; offset: number; uid: string; seq: number; set: Partial<Pick<BlockEntry, 'uid' | 'cid' | 'node' | 'net'>> };

export type Outcome =
  /** allocate: the recorded entry (with its seq); release: the removed entry. */
  | { ok: true; entry: BlockEntry }
  /** allocate: the slot is held by another pod. */
  | { ok: false; reason: 'taken'; holder: BlockEntry }
  /** release/update: no entry with that uid and seq (already released, or the address went to someone else). */
  | { ok: false; reason: 'not-held'; holder?: BlockEntry };

export interface CommitterOptions {
  /** Write attempts per batch before it fails; default 25. */
  maxAttempts?: number;
  /** First conflict backoff (doubling, full jitter); default 2 ms. */
  backoffMs?: number;
  /** Backoff cap; default 100 ms. */
  maxBackoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Told the batch size and duration of every successful write (writes/conflicts/failures: stats()). */
  metrics?: CommitterMetrics;
}

export interface CommitStats {
  /** Write requests sent (create, replace, delete), including those that lost a race. */
  writes: number;
  conflicts: number;
  /** Mutations committed (ok outcomes). */
  mutations: number;
  /** Batches that failed after their retries or on a non-conflict error. */
  failedBatches: number;
}

interface Pending {
  mutation: Mutation;
  resolve(o: Outcome): void;
  reject(e: Error): void;
}

interface BlockQueue {
  ref: BlockRef;
  poolUID: string | undefined;
  pending: Pending[];
  writing: boolean;
  /** Last version we wrote or read; undefined = must read first; null = known absent. */
  known: IPAMBlock | null | undefined;
}

export class BlockCommitter {
  private readonly queues = new Map<string, BlockQueue>();
  /**
   * Every block that existed was seeded from one list (a rebuild): a block we have no queue for is
   * absent as of that list, so its first write is a create without a read first. Safe: a block
   * someone else created since makes the create fail with AlreadyExists, a conflict, which re-reads.
   */
  private listed = false;
  private readonly counters: CommitStats = { writes: 0, conflicts: 0, mutations: 0, failedBatches: 0 };
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly io: BlockIO,
    private readonly opts: CommitterOptions = {},
  ) {
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Seeds what the committer knows of a block (from a rebuild's list), saving a read on first write. */
  seed(ref: BlockRef, block: IPAMBlock | null): void {
    const q = this.queue(ref, block?.spec.poolUID);
    if (!q.writing) q.known = block;
  }

  /**
   * Every existing block has been seed()ed from one complete list: blocks not seeded are taken as
   * absent (their first write creates without reading). Until the next reset().
   */
  markListed(): void {
    this.listed = true;
  }

  /** Forgets every block (leadership lost: the next term rebuilds from the API). */
  reset(): void {
    this.listed = false;
    for (const q of this.queues.values()) if (!q.writing) q.known = undefined;
  }

  stats(): CommitStats {
    return { ...this.counters };
  }

  /** Queues one mutation of `ref`; resolves once a write carrying it succeeded (or it was refused). */
  submit(ref: BlockRef, poolUID: string | undefined, mutation: Mutation): Promise<Outcome> {
    const problem = mutation.op === 'allocate' ? entryProblem(mutation.entry) : mutation.op === 'update' ? entryProblem({ uid: 'x', pod: 'x', nic: 'x', ...mutation.set }) : undefined;
    if (problem !== undefined) return Promise.reject(new Error(`IPAMBlock ${ref.name} slot ${mutation.offset}: refusing to record an entry whose ${problem}`));
    const q = this.queue(ref, poolUID);
    return new Promise<Outcome>((resolve, reject) => {
      q.pending.push({ mutation, resolve, reject });
      // setImmediate, not a microtask: a burst of callers woken by one event (e.g. the previous
      // write's answer, or many RPCs read in one socket turn) reach submit across many microtask
      // hops; waiting for the end of this event-loop turn lets all of them join the first write
      // instead of all but the first waiting a whole write behind it.
      if (!q.writing) {
        q.writing = true;
        setImmediate(() => void this.drain(q));
      }
    });
  }

  private queue(ref: BlockRef, poolUID: string | undefined): BlockQueue {
    let q = this.queues.get(ref.name);
    if (q === undefined) {
      q = { ref, poolUID, pending: [], writing: false, known: this.listed ? null : undefined };
      this.queues.set(ref.name, q);
    }
    return q;
  }

  private async drain(q: BlockQueue): Promise<void> {
    while (q.pending.length > 0) {
      const batch = q.pending.splice(0);
      try {
        const outcomes = await this.commit(q, batch.map((p) => p.mutation));
        batch.forEach((p, i) => p.resolve(outcomes[i]!));
      } catch (e) {
        this.counters.failedBatches++;
        q.known = undefined;
        const err = e instanceof Error ? e : new Error(String(e));
        for (const p of batch) p.reject(err);
      }
    }
    q.writing = false;
    // Nothing queued and nothing known worth keeping in memory for an idle, absent block.
    if (q.known === null) this.queues.delete(q.ref.name);
  }

  private async commit(q: BlockQueue, batch: Mutation[]): Promise<Outcome[]> {
    const max = this.opts.maxAttempts ?? 25;
    for (let attempt = 1; ; attempt++) {
      if (q.known === undefined) {
        q.known = (await this.io.get(q.ref.name)) ?? null;
      }
      const base = q.known;
      if (base !== null) checkIdentity(base, q.ref);
      const { next, outcomes, changed } = applyBatch(base, q.ref, q.poolUID, batch);
      if (!changed) return outcomes;
      try {
        this.counters.writes++;
        const started = performance.now();
        q.known = await this.write(base, next);
        this.opts.metrics?.written(batch.length, (performance.now() - started) / 1000);
        this.counters.mutations += outcomes.filter((o) => o.ok).length;
        return outcomes;
      } catch (e) {
        if (!(e instanceof BlockConflict)) throw e;
        this.counters.conflicts++;
        q.known = undefined;
        if (attempt >= max) throw new Error(`IPAMBlock ${q.ref.name}: still conflicting after ${attempt} attempts`, { cause: e });
        const cap = Math.min(this.opts.maxBackoffMs ?? 100, (this.opts.backoffMs ?? 2) * 2 ** (attempt - 1));
        await this.sleep(Math.random() * cap);
      }
    }
  }

  /** create when absent, delete when emptied, else replace; all guarded. Returns the new state. */
  private async write(base: IPAMBlock | null, next: IPAMBlock): Promise<IPAMBlock | null> {
    const empty = Object.keys(next.spec.allocations).length === 0;
    if (base === null) return this.io.create(next);
    if (empty) {
      await this.io.delete(next.metadata.name ?? '', base.metadata.resourceVersion ?? '');
      return null;
    }
    return this.io.replace(next);
  }
}

function checkIdentity(block: IPAMBlock, ref: BlockRef): void {
  if (block.spec.pool !== ref.pool || block.spec.cidr !== ref.cidr) {
    throw new Error(
      `IPAMBlock ${ref.name} records pool ${block.spec.pool} ${block.spec.cidr}, expected pool ${ref.pool} ${ref.cidr}; refusing to write it`,
    );
  }
}

/**
 * The batch applied, in order, to a copy of `base` (null: the block does not exist). Pure; exported
 * for the unit tests. `changed` is false when no mutation alters the block (nothing to write).
 */
export function applyBatch(
  base: IPAMBlock | null,
  ref: BlockRef,
  poolUID: string | undefined,
  batch: readonly Mutation[],
): { next: IPAMBlock; outcomes: Outcome[]; changed: boolean } {
  const allocations: Record<string, string> = { ...(base?.spec.allocations ?? {}) };
  let seq = base?.spec.seq ?? 0;
  let changed = false;
  const outcomes = batch.map((m): Outcome => {
    if (!Number.isInteger(m.offset) || m.offset < 0 || m.offset >= BLOCK_SIZE) throw new RangeError(`block offset ${m.offset} outside 0..255`);
    const key = String(m.offset);
    const raw = allocations[key];
    const held = raw === undefined ? undefined : decodeEntry(raw);
    if (held instanceof Error) throw new Error(`IPAMBlock ${ref.name} slot ${key}: ${held.message}`);
    if (m.op === 'allocate') {
      // Our own earlier write (e.g. one whose answer was lost) counts as done, not as taken.
      if (held !== undefined) return held.uid === m.entry.uid && held.nic === m.entry.nic ? { ok: true, entry: held } : { ok: false, reason: 'taken', holder: held };
      const entry: BlockEntry = { ...m.entry, seq: ++seq };
      allocations[key] = encodeEntry(entry);
      changed = true;
      return { ok: true, entry };
    }
    if (held === undefined || held.uid !== m.uid || held.seq !== m.seq) return held === undefined ? { ok: false, reason: 'not-held' } : { ok: false, reason: 'not-held', holder: held };
    if (m.op === 'release') {
      delete allocations[key];
      changed = true;
      return { ok: true, entry: held };
    }
    const entry: BlockEntry = { ...held, ...m.set };
    const text = encodeEntry(entry);
    if (text !== raw) changed = true;
    allocations[key] = text;
    return { ok: true, entry };
  });
  const next: IPAMBlock = {
    apiVersion: IPAM_API_VERSION,
    kind: 'IPAMBlock',
    metadata: {
      ...(base?.metadata ?? {}),
      name: ref.name,
      labels: { ...(base?.metadata.labels ?? {}), [LABEL_BLOCK_POOL]: poolLabelValue(ref.pool) },
    },
    spec: {
      pool: ref.pool,
      ...(base?.spec.poolUID ?? poolUID ? { poolUID: base?.spec.poolUID ?? poolUID } : {}),
      cidr: ref.cidr,
      seq,
      allocated: Object.keys(allocations).length,
      allocations,
    },
  };
  return { next, outcomes, changed };
}
