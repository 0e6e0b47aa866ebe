// The IP garbage collector: a leader-only controller keyed by pod `namespace/name`, for every pod name
// that holds a record in the leader's state. Rules in decide.ts; design in docs/design/gc.md.
//
// Triggers: pod add/update/delete events (uid, phase or deletionTimestamp changed; deleted), node
// Ready changes (every pod with a record on that node), the start of a leadership term (afterRebuild:
// every pod with a record) and a periodic full scan, which also re-reads the blocks (resync.ts).
//
// A reconcile decides on the caches first; only when something is to be released does it re-read
// the pod from the API (a cache can lag: a pod created a moment ago, whose fresh record must not
// look orphaned) and decide again; then it releases through AllocatorService.releaseRecord, whose
// IPAMBlock write names the record's (uid, seq). Keep decisions that only time can change (a grace
// period running) come back as requeueAfter. In dry-run mode the release is logged and listed, never
// written.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { Controller, type Source } from '../framework/controller.js';
import type { Informer } from '../framework/informer.js';
import { objectKey, splitKey } from '../framework/keys.js';
import type { Logger } from '../framework/logger.js';
import type { AllocatorService } from '../service/allocator-service.js';
import type { BlockIO } from '../service/block-client.js';
import type { BlockCommitter } from '../service/block-committer.js';
import { slotOf } from '../service/block-layout.js';
import type { Held } from '../service/pool-state.js';
import { type GcDecision, type GcPolicy, type GcReleaseReason, decideRecord, statefulSetOf } from './decide.js';
import { holdsSlot, nodeReady, podFacts, recordFacts } from './pod-facts.js';
import { resyncState } from './resync.js';

export const GC_CONTROLLER = 'ip-gc';

/** Reads that must not come from a cache. */
export interface GcLookup {
  /** The pod from the API (a quorum read); undefined on 404. */
  pod(namespace: string, name: string): Promise<V1Pod | undefined>;
  /** A StatefulSet's ordinals (spec.ordinals.start, spec.replicas); undefined when it is gone or being deleted. */
  statefulSet(namespace: string, name: string): Promise<StatefulSetOrdinals | undefined>;
}

export interface StatefulSetOrdinals {
  start: number;
  replicas: number;
}

export interface GcOptions {
  service: AllocatorService;
  pods: Informer<V1Pod>;
  nodes: Informer<V1Node>;
  lookup: GcLookup;
  /** For the scan's resync of memory against the blocks; omitted: no resync. */
  io?: BlockIO;
  /**
   * The allocator's committer: told what a block the resync found changed looks like now, or it
   * would keep refusing allocations against its cached copy (a refusal needs no write, so no CAS
   * would ever correct it).
   */
  committer?: BlockCommitter;
  policy: GcPolicy;
  /** Log and list what would be released; write nothing. */
  dryRun: boolean;
  /** Full scan period; 0 disables the periodic scan. */
  scanIntervalMs: number;
  /** Records younger than this are left out of the scan's resync (its list may predate our writes); default 60 s. */
  resyncMarginMs?: number;
  /** Only pods in these namespaces (tests sharing one cluster); default every namespace. */
  namespaces?: readonly string[];
  /** Called once per address released (metrics: the counter by reason). */
  onRelease?: (reason: GcReleaseReason) => void;
  /** Called after every release that failed with an error. */
  onReleaseError?: (reason: GcReleaseReason) => void;
  log: Logger;
  now?: () => number;
  /**
   * Concurrent pod reconciles; default 16. Each is an API read (the owner re-checked right before
   * release) plus a block write, i.e. waiting, not CPU; concurrent releases of one block share a write
   * (group commit). With 4, a dead node's 100 records were released ~4 per write, 35–40 s in all
   * under load (the chaos suite's node-poweroff), while the replacement pods on a 1:1 pool waited.
   */
  workers?: number;
}

/** One address the GC released, or would have released in dry-run mode. */
export interface GcRelease {
  namespace: string;
  name: string;
  pool: string;
  ip: string;
  uid: string;
  seq: number;
  reason: GcReleaseReason;
  at: string;
}

export interface GarbageCollector {
  controller: Controller;
  /** Queues every pod with a record (start of a term, or on demand). */
  enqueueAll(): void;
  /** One scan now: resync with the blocks, then every pod with a record queued. */
  scan(): Promise<void>;
  /** The last releases (dry-run: the would-be releases), newest last; bounded. */
  recent(): GcRelease[];
  /**
   * One pod name's records judged and, where due, released now: what a reconcile does (tests and
   * tools call it directly). Returns every decision taken, with the release's result.
   */
  collect(key: string, opts?: { signal?: AbortSignal; log?: Logger }): Promise<CollectResult>;
}

export interface CollectResult {
  decisions: { held: Held; decision: GcDecision; released?: boolean }[];
  /** Earliest time a kept record may become releasable by time alone (a grace period ending). */
  requeueAfterMs?: number;
}

const RECENT_MAX = 1000;

export function newGarbageCollector(opts: GcOptions): GarbageCollector {
  const now = opts.now ?? (() => Date.now());
  const log = opts.log.child({ component: 'gc', ...(opts.dryRun ? { dryRun: true } : {}) });
  const recent: GcRelease[] = [];
  let controller: Controller;

  const inScope = (key: string) => opts.namespaces === undefined || opts.namespaces.includes(splitKey(key).namespace ?? '');
  const hasRecords = (key: string): boolean => {
    const state = opts.service.poolState;
    if (state === undefined || !inScope(key)) return false;
    const { namespace = '', name } = splitKey(key);
    return state.forPod(namespace, name).length > 0;
  };
  const enqueueAll = () => {
    for (const k of opts.service.poolState?.podKeys() ?? []) if (inScope(k)) controller.enqueue(k);
  };

  const scan = async () => {
    const state = opts.service.poolState;
    if (state === undefined) return;
    if (opts.io) {
      const listedAt = now();
      const blocks = await opts.io.list();
      // The term may have ended (or restarted) during the list: only touch the state we listed for.
      if (opts.service.poolState === state) {
        const { forgotten, learned } = resyncState(state, blocks, listedAt, opts.resyncMarginMs ?? 60_000);
        for (const h of forgotten) log.info('gc resync: record gone from its block, address freed in memory', describe(h));
        for (const h of learned) log.info('gc resync: record found in its block, now tracked', describe(h));
        const byName = new Map(blocks.map((b) => [b.metadata.name ?? '', b]));
        for (const h of [...forgotten, ...learned]) {
          const ref = slotOf(h.pool, h.family, h.ip).block;
          // A listed copy may predate our own last write: that write's successor then meets a CAS
          // conflict and re-reads, never a wrong answer.
          opts.committer?.seed(ref, byName.get(ref.name) ?? null);
        }
      }
    }
    enqueueAll();
  };

  const podEvents: Source = {
    subscribe: (enqueue) =>
      opts.pods.addEventHandler({
        add: (p) => {
          const k = objectKey(p);
          if (hasRecords(k)) enqueue(k);
        },
        update: (a, b) => {
          if (a === b) return; // periodic resync of the cache: the scan covers it
          const changed =
            a.metadata?.uid !== b.metadata?.uid || a.status?.phase !== b.status?.phase || String(a.metadata?.deletionTimestamp) !== String(b.metadata?.deletionTimestamp);
          const k = objectKey(b);
          if (changed && hasRecords(k)) enqueue(k);
        },
        delete: (p) => {
          const k = objectKey(p);
          if (hasRecords(k)) enqueue(k);
        },
      }),
    keys: () => [],
    hasSynced: () => opts.pods.hasSynced(),
  };

  const nodeEvents: Source = {
    subscribe: (enqueue) => {
      const podsOn = (node: V1Node) => {
        for (const h of opts.service.poolState?.forNode(node.metadata?.name ?? '') ?? []) if (inScope(h.entry.pod)) enqueue(h.entry.pod);
      };
      return opts.nodes.addEventHandler({
        update: (a, b) => {
          if (a !== b && nodeReady(a) !== nodeReady(b)) podsOn(b);
        },
        delete: podsOn,
      });
    },
    keys: () => [],
    hasSynced: () => opts.nodes.hasSynced(),
  };

  const periodic: Source = {
    subscribe: () => {
      if (opts.scanIntervalMs <= 0) return () => {};
      const timer = setInterval(() => {
        scan().catch((error: unknown) => log.warn('gc scan failed; the next one retries', { error }));
      }, opts.scanIntervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
    keys: () => [],
    hasSynced: () => true,
  };

  /** Decisions for every record of the pod name, from `pod` (cache or API). */
  const decideAll = async (namespace: string, name: string, held: readonly Held[], pod: V1Pod | undefined): Promise<{ h: Held; d: GcDecision }[]> => {
    const facts = pod && podFacts(pod, opts.nodes.get(pod.spec?.nodeName ?? ''));
    const ordinals = new Map<string, StatefulSetOrdinals | undefined>();
    const out: { h: Held; d: GcDecision }[] = [];
    for (const h of held) {
      const record = recordFacts(h);
      const sts = statefulSetOf(record, name, opts.policy);
      const aliveSameUid = facts !== undefined && facts.uid === record.uid && facts.deletionTimestampMs === undefined && facts.phase !== 'Succeeded' && facts.phase !== 'Failed';
      let set: StatefulSetOrdinals | undefined;
      if (sts !== undefined && !aliveSameUid) {
        if (!ordinals.has(sts.name)) ordinals.set(sts.name, await opts.lookup.statefulSet(namespace, sts.name));
        set = ordinals.get(sts.name);
      }
      const d = decideRecord({
        podName: name,
        record,
        pod: facts,
        liveHoldsSameSlot: facts !== undefined && holdsSlot(held, facts.uid, record.nic, record.family),
        ...(set !== undefined ? { statefulSetReplicas: set.replicas, statefulSetStart: set.start } : {}),
        nowMs: now(),
        policy: opts.policy,
      });
      out.push({ h, d });
    }
    return out;
  };

  controller = new Controller({
    name: GC_CONTROLLER,
    workers: opts.workers ?? 16,
    log: opts.log,
    sources: [podEvents, nodeEvents, periodic],
    reconcile: async (key, ctx) => {
      const r = await collect(key, { signal: ctx.signal, log: ctx.log });
      return r.requeueAfterMs !== undefined ? { requeueAfterMs: r.requeueAfterMs } : undefined;
    },
  });

  async function collect(key: string, o: { signal?: AbortSignal; log?: Logger } = {}): Promise<CollectResult> {
    const klog = o.log ?? log.child({ namespace: splitKey(key).namespace, name: splitKey(key).name });
    const state = opts.service.poolState;
    // Not serving (rebuilding, or not leading): the term's sweep queues every pod again.
    if (state === undefined) return { decisions: [] };
    const { namespace = '', name } = splitKey(key);
    if (!inScope(key) || state.forPod(namespace, name).length === 0) return { decisions: [] };

    const cached = await decideAll(namespace, name, state.forPod(namespace, name), opts.pods.get(key));
    if (!cached.some((x) => x.d.action === 'release')) return { decisions: cached.map(({ h, d }) => ({ held: h, decision: d })), ...requeueFor(cached, now()) };

    // Re-check right before releasing, on the pod as the API has it now.
    const fresh = await opts.lookup.pod(namespace, name);
    if (o.signal?.aborted || opts.service.poolState !== state) return { decisions: [] };
    const decisions = await decideAll(namespace, name, state.forPod(namespace, name), fresh);
    const out: CollectResult['decisions'] = [];
    for (const { h, d } of decisions) {
      if (d.action !== 'release') {
        klog.debug('gc keeps', { ...describe(h), reason: d.reason });
        out.push({ held: h, decision: d });
        continue;
      }
      const line = { ...describe(h), reason: d.reason, podUid: fresh?.metadata?.uid ?? null };
      if (opts.dryRun) {
        klog.info('gc would release (dry run)', line);
        remember(recent, h, d.reason, now());
        out.push({ held: h, decision: d, released: false });
        continue;
      }
      let released: boolean;
      try {
        released = await opts.service.releaseRecord(h);
      } catch (e) {
        opts.onReleaseError?.(d.reason);
        throw e;
      }
      if (released) {
        klog.info('gc released', line);
        remember(recent, h, d.reason, now());
        opts.onRelease?.(d.reason);
      } else {
        klog.info('gc release skipped: the record changed hands meanwhile', line);
      }
      out.push({ held: h, decision: d, released });
    }
    return { decisions: out, ...requeueFor(decisions, now()) };
  }

  return { controller, enqueueAll, scan, recent: () => [...recent], collect };
}

/** The earliest time a keep decision may turn into a release by time alone. */
function requeueFor(decisions: readonly { d: GcDecision }[], nowMs: number): { requeueAfterMs?: number } {
  let at = Infinity;
  for (const { d } of decisions) if (d.action === 'keep' && d.recheckAtMs !== undefined) at = Math.min(at, d.recheckAtMs);
  // a little after the instant, so the next look sees it passed
  return at === Infinity ? {} : { requeueAfterMs: Math.max(0, at - nowMs) + 100 };
}

function describe(h: Held): Record<string, unknown> {
  const [namespace, name] = [h.entry.pod.slice(0, h.entry.pod.indexOf('/')), h.entry.pod.slice(h.entry.pod.indexOf('/') + 1)];
  return { namespace, name, pool: h.pool, ip: h.ip, uid: h.entry.uid, seq: h.entry.seq, nic: h.entry.nic, ...(h.entry.node ? { node: h.entry.node } : {}) };
}

function remember(recent: GcRelease[], h: Held, reason: GcReleaseReason, nowMs: number): void {
  const slash = h.entry.pod.indexOf('/');
  recent.push({ namespace: h.entry.pod.slice(0, slash), name: h.entry.pod.slice(slash + 1), pool: h.pool, ip: h.ip, uid: h.entry.uid, seq: h.entry.seq, reason, at: new Date(nowMs).toISOString() });
  if (recent.length > RECENT_MAX) recent.splice(0, recent.length - RECENT_MAX);
}
