// The per-address holder history (ADR 0011): types of the IPAMHistory object
// (crds/internal/ipam.spiderpool-ts.io_ipamhistories.yaml), the one-line codec of a holder, and the
// pure merge that brings a history up to date with its IPAMBlock. One IPAMHistory per IPAMBlock,
// same name; per address (offset in the block) the `depth` most recent holders, newest first.
//
// Holder line (space-separated, "-" for an absent field):
//   <uid> <seq> <namespace/name> <nic> <node> <containerID> <since> <until>
// since = the block entry's recording time; until = when the operator saw the entry go ("-": held).
import type { BlockEntry } from '../api/internal/ipamblock.js';
import type { ObjectMeta } from '../api/v2beta1/meta.js';

export const HISTORY_GROUP = 'ipam.spiderpool-ts.io';
export const HISTORY_VERSION = 'v1alpha1';
export const HISTORY_API_VERSION = `${HISTORY_GROUP}/${HISTORY_VERSION}` as const;
export const IPAMHISTORY_PLURAL = 'ipamhistories';
/** Default holders kept per address; the schema allows 1..16. */
export const DEFAULT_HISTORY_DEPTH = 5;
export const MAX_HISTORY_DEPTH = 16;

export interface IPAMHistorySpec {
  pool: string;
  poolUID?: string;
  cidr: string;
  depth: number;
  /** Key: offset in the block ("0".."255"); value: holder lines, newest first. */
  holders: Record<string, string>;
}

export interface IPAMHistory {
  apiVersion: typeof HISTORY_API_VERSION;
  kind: 'IPAMHistory';
  metadata: ObjectMeta;
  spec: IPAMHistorySpec;
}

/** One past or present holder of an address. */
export interface Holder {
  uid: string;
  seq: number;
  pod: string;
  nic: string;
  node?: string;
  cid?: string;
  /** RFC 3339, whole seconds. */
  since?: string;
  /** RFC 3339, whole seconds; absent while held. */
  until?: string;
}

const ABSENT = '-';
const opt = (v: string | undefined) => (v === undefined || v === '' ? ABSENT : v);
const back = (v: string | undefined) => (v === undefined || v === ABSENT ? undefined : v);

export function encodeHolder(h: Holder): string {
  return [h.uid, String(h.seq), h.pod, h.nic, opt(h.node), opt(h.cid), opt(h.since), opt(h.until)].join(' ');
}

/** The holders of one address, newest first; lines that do not decode are skipped (counted). */
export function decodeHolders(text: string | undefined): { holders: Holder[]; bad: number } {
  const holders: Holder[] = [];
  let bad = 0;
  for (const line of (text ?? '').split('\n')) {
    if (line === '') continue;
    const [uid, seq, pod, nic, node, cid, since, until, ...rest] = line.split(' ');
    if (!uid || !pod || !nic || !/^[0-9]+$/.test(seq ?? '') || until === undefined || rest.length > 0) {
      bad++;
      continue;
    }
    const h: Holder = { uid, seq: Number(seq), pod, nic };
    const n = back(node), c = back(cid), s = back(since), u = back(until);
    if (n) h.node = n;
    if (c) h.cid = c;
    if (s) h.since = s;
    if (u) h.until = u;
    holders.push(h);
  }
  return { holders, bad };
}

export const holderOf = (e: BlockEntry): Holder => ({
  uid: e.uid,
  seq: e.seq,
  pod: e.pod,
  nic: e.nic,
  ...(e.node ? { node: e.node } : {}),
  ...(e.cid ? { cid: e.cid } : {}),
  ...(e.at ? { since: e.at } : {}),
});

const same = (a: { uid: string; seq: number }, b: { uid: string; seq: number }) => a.uid === b.uid && a.seq === b.seq;

/** Newest first: by since, then by seq (seq grows within a block; a recreated block restarts it). */
function newestFirst(a: Holder, b: Holder): number {
  const ta = a.since ?? '', tb = b.since ?? '';
  if (ta !== tb) return ta < tb ? 1 : -1;
  return b.seq - a.seq;
}

/**
 * One address's history brought up to date: `observed` (holders the watch saw come and go since the
 * last write, so an entry that lived shorter than the write interval is not missed) merged in, then
 * the level rule against the block's current entry: an open holder that is not the current entry is
 * closed at `now` (or the time the watch saw it go), the current entry is open. Trimmed to `depth`.
 */
export function mergeSlot(history: readonly Holder[], observed: readonly Holder[], current: BlockEntry | undefined, now: string, depth: number): Holder[] {
  const out = history.map((h) => ({ ...h }));
  for (const o of observed) {
    const have = out.find((h) => same(h, o));
    if (have === undefined) out.push({ ...o });
    else if (o.until !== undefined && have.until === undefined) have.until = o.until;
  }
  for (const h of out) if (h.until === undefined && (current === undefined || !same(h, current))) h.until = now;
  if (current !== undefined) {
    const have = out.find((h) => same(h, current));
    if (have === undefined) out.push(holderOf(current));
    else {
      // Re-confirmed by a new sandbox (re-ADD): the latest container and node, still held.
      delete have.until;
      if (current.cid) have.cid = current.cid;
      if (current.node) have.node = current.node;
    }
  }
  return coalesce(out.sort(newestFirst)).slice(0, depth);
}

/**
 * One line per stretch of one pod incarnation on one interface: records of the same pod uid and nic
 * next to each other (released and taken again, or rewritten with a new seq) become one holder, from
 * the earliest since to the latest until, identified by the newest record (the block's current entry
 * keeps matching it).
 */
function coalesce(newestFirstList: Holder[]): Holder[] {
  const out: Holder[] = [];
  for (const h of newestFirstList) {
    const newer = out[out.length - 1];
    if (newer !== undefined && newer.uid === h.uid && newer.nic === h.nic) {
      if (h.since !== undefined && (newer.since === undefined || h.since < newer.since)) newer.since = h.since;
      continue;
    }
    out.push(h);
  }
  return out;
}

/** Whole-second RFC 3339, as the block entries write times. */
export const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * The history's holders after merging a block's current entries and what the watch observed; the
 * offsets that changed. Offsets whose lines would stay the same are left as they are.
 */
export function mergeHistory(
  holders: Record<string, string>,
  entries: ReadonlyMap<number, BlockEntry>,
  observed: ReadonlyMap<number, readonly Holder[]>,
  now: Date,
  depth: number,
): { holders: Record<string, string>; changed: number } {
  const next: Record<string, string> = { ...holders };
  let changed = 0;
  const offsets = new Set<string>([...Object.keys(holders), ...[...entries.keys()].map(String), ...[...observed.keys()].map(String)]);
  const stamp = rfc3339(now);
  for (const key of offsets) {
    const offset = Number(key);
    const merged = mergeSlot(decodeHolders(holders[key]).holders, observed.get(offset) ?? [], entries.get(offset), stamp, depth);
    const text = merged.map(encodeHolder).join('\n');
    if (text === (holders[key] ?? '')) continue;
    changed++;
    if (text === '') delete next[key];
    else next[key] = text;
  }
  return { holders: next, changed };
}
