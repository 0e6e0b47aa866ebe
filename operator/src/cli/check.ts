// `ipam check` (like `calicoctl ipam check`): audits the allocation records of a live cluster against
// the pods, pools and SpiderEndpoints, and can release the leaks it finds. Importable: readSnapshot →
// analyze → releaseLeaks; check-main.ts is the command line around them.
//
// What counts as a finding:
//  - duplicate-record: one address recorded twice (two pools whose ranges overlap);
//  - duplicate-pod-ip: two live pods report the same address in status.podIPs;
//  - leak: a record whose owner is gone — the GC's own rules (gc/decide.ts) with Terminating pods
//    counted as owners (the GC waits their grace period out): pod deleted, name taken by another
//    UID, pod finished; a StatefulSet identity within the replicas is kept, not a leak;
//  - pod-without-record: a Running pod that asks for our IPAM (ipam.spidernet.io/ippool(s),
//    subnet(s) annotation) with no record of its UID;
//  - count-drift: a pool's status.allocatedIPCount differs from its records;
//  - endpoint-without-record: a SpiderEndpoint for a pod incarnation that holds nothing;
//  - malformed-entry: a block entry that does not decode (nothing else can judge it).
// A live cluster moves while it is read: a pod deleted a moment ago may show as a leak until its DEL
// lands, a count until the status controller catches up. Run it twice; `--release` re-reads each
// leak's pod from the API right before releasing it.
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Node, type V1Pod, type V1StatefulSet } from '@kubernetes/client-node';
import { type BlockEntry, type IPAMBlock, decodeEntry } from '../api/internal/ipamblock.js';
import { ANNO_POD_IPPOOL, ANNO_POD_IPPOOLS, ANNO_SUBNET, ANNO_SUBNETS } from '../api/v2beta1/constants.js';
import { GROUP, PLURALS, VERSION, type SpiderEndpoint, type SpiderIPPool } from '../api/v2beta1/types.js';
import { canonicalIP } from '../core/ip/index.js';
import { type GcPolicy, type GcReleaseReason, decideRecord, statefulSetOf } from '../gc/decide.js';
import { holdsSlot, podFacts, recordFacts } from '../gc/pod-facts.js';
import { KubeBlockIO } from '../service/block-client.js';
import { BlockCommitter } from '../service/block-committer.js';
import { addressAt, slotOf } from '../service/block-layout.js';

export interface Snapshot {
  blocks: IPAMBlock[];
  pools: SpiderIPPool[];
  pods: V1Pod[];
  nodes: V1Node[];
  endpoints: SpiderEndpoint[];
  /** `namespace/name` → ordinals.start and desired replicas (StatefulSets being deleted are left out). */
  statefulSets: Map<string, { start: number; replicas: number }>;
  /** When the reads started (ms). */
  readAtMs: number;
}

/** One recorded address, as `ipam check` reports it. */
export interface RecordRef {
  pool: string;
  ip: string;
  block: string;
  offset: number;
  pod: string;
  uid: string;
  seq: number;
  nic: string;
  family: 4 | 6;
  owner?: string;
}

export type Finding =
  | { kind: 'duplicate-record'; ip: string; records: RecordRef[] }
  | { kind: 'duplicate-pod-ip'; ip: string; pods: string[] }
  | { kind: 'leak'; reason: GcReleaseReason; record: RecordRef }
  | { kind: 'pod-without-record'; pod: string; uid: string }
  | { kind: 'count-drift'; pool: string; statusAllocated: number | null; recorded: number }
  | { kind: 'endpoint-without-record'; endpoint: string; uid: string }
  | { kind: 'malformed-entry'; block: string; offset: number; message: string };

export interface Scope {
  /** Only these pools' records and counts (empty: all). */
  pools?: readonly string[];
  /** Only records, pods and endpoints in these namespaces (empty: all). */
  namespaces?: readonly string[];
}

export interface AnalyzeOptions {
  statefulSetKeepsIPs?: boolean;
  scope?: Scope;
}

export async function readSnapshot(kc: KubeConfig): Promise<Snapshot> {
  const readAtMs = Date.now();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const [blocks, pools, pods, nodes, endpoints, statefulSets] = await Promise.all([
    new KubeBlockIO(kc).list(),
    paged((o) => custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURALS.SpiderIPPool, ...o }) as Promise<PageOf<SpiderIPPool>>),
    paged((o) => core.listPodForAllNamespaces(o) as Promise<PageOf<V1Pod>>),
    paged((o) => core.listNode(o) as Promise<PageOf<V1Node>>),
    paged((o) => custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURALS.SpiderEndpoint, ...o }) as Promise<PageOf<SpiderEndpoint>>),
    paged((o) => apps.listStatefulSetForAllNamespaces(o) as Promise<PageOf<V1StatefulSet>>),
  ]);
  const ordinals = new Map<string, { start: number; replicas: number }>();
  for (const s of statefulSets) {
    if (!s.metadata?.deletionTimestamp) ordinals.set(`${s.metadata?.namespace}/${s.metadata?.name}`, { start: s.spec?.ordinals?.start ?? 0, replicas: s.spec?.replicas ?? 1 });
  }
  return { blocks, pools, pods, nodes, endpoints, statefulSets: ordinals, readAtMs };
}

interface PageOf<T> {
  items: T[];
  metadata?: { _continue?: string; continue?: string };
}

async function paged<T>(list: (o: { limit: number; _continue?: string }) => Promise<PageOf<T>>): Promise<T[]> {
  const out: T[] = [];
  let cont: string | undefined;
  do {
    const page = await list({ limit: 500, ...(cont ? { _continue: cont } : {}) });
    out.push(...page.items);
    cont = page.metadata?.continue ?? page.metadata?._continue;
  } while (cont);
  return out;
}

const IPAM_ANNOTATIONS = [ANNO_POD_IPPOOL, ANNO_POD_IPPOOLS, ANNO_SUBNET, ANNO_SUBNETS];
const finished = (p: V1Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const podKey = (p: { metadata?: { namespace?: string; name?: string } }) => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;

/** Every record of the snapshot, decoded; undecodable entries come back as findings. */
export function recordsOf(blocks: readonly IPAMBlock[]): { records: RecordRef[]; malformed: Finding[] } {
  const records: RecordRef[] = [];
  const malformed: Finding[] = [];
  for (const b of blocks) {
    const family = b.spec.cidr.includes(':') ? 6 : 4;
    for (const [key, text] of Object.entries(b.spec.allocations ?? {})) {
      const block = b.metadata.name ?? '';
      const entry: BlockEntry | Error = decodeEntry(text);
      if (entry instanceof Error) {
        malformed.push({ kind: 'malformed-entry', block, offset: Number(key), message: entry.message });
        continue;
      }
      let ip: string;
      try {
        ip = addressAt(family, b.spec.cidr, Number(key));
      } catch (e) {
        malformed.push({ kind: 'malformed-entry', block, offset: Number(key), message: `spec.cidr ${b.spec.cidr}: ${(e as Error).message}` });
        continue;
      }
      records.push({ pool: b.spec.pool, ip, block, offset: Number(key), pod: entry.pod, uid: entry.uid, seq: entry.seq, nic: entry.nic, family, ...(entry.ok ? { owner: entry.ok } : {}) });
    }
  }
  return { records, malformed };
}

/** The findings of one snapshot, pure. */
export function analyze(snap: Snapshot, opts: AnalyzeOptions = {}): Finding[] {
  const inPools = (pool: string) => !opts.scope?.pools?.length || opts.scope.pools.includes(pool);
  const inNamespaces = (key: string) => !opts.scope?.namespaces?.length || opts.scope.namespaces.includes(key.slice(0, key.indexOf('/')));
  const policy: GcPolicy = {
    statefulSetKeepsIPs: opts.statefulSetKeepsIPs ?? true,
    // a Terminating pod still owns its addresses for `ipam check`; the GC waits its grace period out
    terminatingOnReadyNode: false,
    terminatingOnNotReadyNode: false,
    additionalGraceDelayMs: 0,
  };
  const findings: Finding[] = [];
  const { records: all, malformed } = recordsOf(snap.blocks);
  findings.push(...malformed);
  const records = all.filter((r) => inPools(r.pool) && inNamespaces(r.pod));

  const pods = new Map(snap.pods.map((p) => [podKey(p), p]));
  const nodes = new Map(snap.nodes.map((n) => [n.metadata?.name ?? '', n]));
  const byPodName = groupBy(all, (r) => r.pod);

  // duplicates among records: the same address in two pools' blocks
  const inScope = new Set(records);
  for (const [ip, rs] of groupBy(all, (r) => r.ip)) if (rs.length > 1 && rs.some((r) => inScope.has(r))) findings.push({ kind: 'duplicate-record', ip, records: rs });

  // duplicates among live pods
  const podsByIP = new Map<string, string[]>();
  for (const p of snap.pods) {
    if (p.spec?.hostNetwork || finished(p) || !inNamespaces(podKey(p))) continue;
    const ips = new Set((p.status?.podIPs ?? []).map((x) => x.ip).filter((x): x is string => !!x).map(canonicalOrSelf));
    for (const ip of ips) {
      const names = podsByIP.get(ip);
      if (names) names.push(podKey(p));
      else podsByIP.set(ip, [podKey(p)]);
    }
  }
  for (const [ip, names] of podsByIP) if (names.length > 1) findings.push({ kind: 'duplicate-pod-ip', ip, pods: names });

  // leaks: the GC's rules, Terminating pods counted as owners
  for (const r of records) {
    const pod = pods.get(r.pod);
    const facts = pod && podFacts(pod, nodes.get(pod.spec?.nodeName ?? ''));
    const record = recordFacts({ family: r.family, entry: { uid: r.uid, nic: r.nic, pod: r.pod, seq: r.seq, ...(r.owner ? { ok: r.owner } : {}) } });
    const name = r.pod.slice(r.pod.indexOf('/') + 1);
    const sts = statefulSetOf(record, name, policy);
    const set = sts && snap.statefulSets.get(`${r.pod.slice(0, r.pod.indexOf('/'))}/${sts.name}`);
    const sameName = (byPodName.get(r.pod) ?? []).map((x) => ({ family: x.family, entry: { uid: x.uid, nic: x.nic, pod: x.pod, seq: x.seq } }));
    const d = decideRecord({
      podName: name,
      record,
      pod: facts,
      liveHoldsSameSlot: facts !== undefined && holdsSlot(sameName, facts.uid, r.nic, r.family),
      ...(set !== undefined ? { statefulSetReplicas: set.replicas, statefulSetStart: set.start } : {}),
      nowMs: snap.readAtMs,
      policy,
    });
    if (d.action === 'release') findings.push({ kind: 'leak', reason: d.reason, record: r });
  }

  // Running pods that ask for our IPAM and hold nothing
  const uidsWithRecords = new Set(all.map((r) => r.uid));
  for (const p of snap.pods) {
    if (p.status?.phase !== 'Running' || p.spec?.hostNetwork || !inNamespaces(podKey(p))) continue;
    if (!IPAM_ANNOTATIONS.some((a) => p.metadata?.annotations?.[a] !== undefined)) continue;
    if (!uidsWithRecords.has(p.metadata?.uid ?? '')) findings.push({ kind: 'pod-without-record', pod: podKey(p), uid: p.metadata?.uid ?? '' });
  }

  // pool counts against the records
  const perPool = new Map<string, number>();
  for (const r of all) perPool.set(r.pool, (perPool.get(r.pool) ?? 0) + 1);
  for (const p of snap.pools) {
    const name = p.metadata.name ?? '';
    if (!inPools(name)) continue;
    const recorded = perPool.get(name) ?? 0;
    const status = p.status?.allocatedIPCount;
    if ((status ?? 0) !== recorded) findings.push({ kind: 'count-drift', pool: name, statusAllocated: status ?? null, recorded });
  }

  // endpoints showing an incarnation that holds nothing
  const podUIDs = new Set(all.map((r) => `${r.pod} ${r.uid}`));
  for (const e of snap.endpoints) {
    const key = podKey(e);
    const uid = e.status?.current?.uid ?? '';
    if (!inNamespaces(key)) continue;
    if (!podUIDs.has(`${key} ${uid}`)) findings.push({ kind: 'endpoint-without-record', endpoint: key, uid });
  }
  return findings;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    const g = m.get(k);
    if (g) g.push(t);
    else m.set(k, [t]);
  }
  return m;
}

function canonicalOrSelf(ip: string): string {
  try {
    return canonicalIP(ip);
  } catch {
    return ip;
  }
}

export interface ReleaseOutcome {
  released: RecordRef[];
  /** Not released, with why (the owner came back into view, the record changed hands, an error). */
  skipped: { record: RecordRef; why: string }[];
}

/**
 * Releases leaks: each one re-judged on the pod (and StatefulSet) read from the API just now, then
 * removed with the same compare-and-swap the operator uses (uid + seq must still match in the block
 * write). The leader notices at its next GC scan (it re-reads the blocks) and hands the addresses out
 * again.
 */
export async function releaseLeaks(kc: KubeConfig, leaks: readonly Extract<Finding, { kind: 'leak' }>[], opts: { statefulSetKeepsIPs?: boolean } = {}): Promise<ReleaseOutcome> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const committer = new BlockCommitter(new KubeBlockIO(kc));
  const out: ReleaseOutcome = { released: [], skipped: [] };
  for (const { record: r } of leaks) {
    try {
      const [namespace = '', name = ''] = [r.pod.slice(0, r.pod.indexOf('/')), r.pod.slice(r.pod.indexOf('/') + 1)];
      const pod = await core.readNamespacedPod({ namespace, name }).catch((e: unknown) => (status(e) === 404 ? undefined : Promise.reject(e)));
      let set: { start: number; replicas: number } | undefined;
      if (r.owner?.startsWith('StatefulSet/')) {
        const sts = await apps.readNamespacedStatefulSet({ namespace, name: r.owner.slice('StatefulSet/'.length) }).catch((e: unknown) => (status(e) === 404 ? undefined : Promise.reject(e)));
        if (sts && !sts.metadata?.deletionTimestamp) set = { start: sts.spec?.ordinals?.start ?? 0, replicas: sts.spec?.replicas ?? 1 };
      }
      if (!stillLeaked(r, pod, set, opts.statefulSetKeepsIPs ?? true)) {
        out.skipped.push({ record: r, why: 'no longer a leak: its owner is back in view' });
        continue;
      }
      const slot = slotOf(r.pool, r.family, r.ip);
      const outcome = await committer.submit(slot.block, undefined, { op: 'release', offset: slot.offset, uid: r.uid, seq: r.seq });
      if (outcome.ok) out.released.push(r);
      else out.skipped.push({ record: r, why: 'the record changed hands (uid/seq no longer match)' });
    } catch (e) {
      out.skipped.push({ record: r, why: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}

function stillLeaked(r: RecordRef, pod: V1Pod | undefined, set: { start: number; replicas: number } | undefined, statefulSetKeepsIPs: boolean): boolean {
  const policy: GcPolicy = { statefulSetKeepsIPs, terminatingOnReadyNode: false, terminatingOnNotReadyNode: false, additionalGraceDelayMs: 0 };
  const record = recordFacts({ family: r.family, entry: { uid: r.uid, nic: r.nic, pod: r.pod, seq: r.seq, ...(r.owner ? { ok: r.owner } : {}) } });
  const name = r.pod.slice(r.pod.indexOf('/') + 1);
  // The live pod's own records are not re-read: assume it may still take a StatefulSet record over.
  const d = decideRecord({
    podName: name,
    record,
    pod: pod && podFacts(pod, undefined),
    liveHoldsSameSlot: false,
    ...(set !== undefined ? { statefulSetReplicas: set.replicas, statefulSetStart: set.start } : {}),
    nowMs: Date.now(),
    policy,
  });
  return d.action === 'release';
}

const status = (e: unknown): number | undefined => (e as { code?: number }).code;
