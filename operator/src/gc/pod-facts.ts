// Kubernetes objects → the facts the GC rules read (decide.ts). Shared by the GC controller and `ipam check`.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { Held } from '../service/pool-state.js';
import type { PodFacts, RecordFacts } from './decide.js';

export function podFacts(pod: V1Pod, node: V1Node | undefined): PodFacts {
  const ref = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  const ts = pod.metadata?.deletionTimestamp;
  const facts: PodFacts = { uid: pod.metadata?.uid ?? '', nodeReady: nodeReady(node) };
  if (pod.status?.phase) facts.phase = pod.status.phase;
  if (ts !== undefined && ts !== null) facts.deletionTimestampMs = new Date(ts as unknown as string | Date).getTime();
  if (ref) facts.controller = `${ref.kind}/${ref.name}`;
  return facts;
}

/** The node's Ready condition is True. A node that is gone or never reported counts as not ready. */
export function nodeReady(node: V1Node | undefined): boolean {
  return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function recordFacts(h: Pick<Held, 'family' | 'entry'>): RecordFacts {
  return { uid: h.entry.uid, nic: h.entry.nic, family: h.family, ...(h.entry.ok ? { owner: h.entry.ok } : {}) };
}

/** Whether `held` (every record of the pod name) has one of `uid` on this interface and family. */
export function holdsSlot(held: readonly Pick<Held, 'family' | 'entry'>[], uid: string, nic: string, family: 4 | 6): boolean {
  return held.some((h) => h.entry.uid === uid && h.entry.nic === nic && h.family === family);
}
