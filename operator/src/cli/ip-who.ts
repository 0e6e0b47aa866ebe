// `kubectl spiderpool ip who <ip>`: which pod holds the address now (pod, node, container, since —
// from the IPAMBlock record, the only source of truth) and who held it before (the IPAMHistory of that
// block, ADR 0011). Looks only at pools whose subnet contains the address: two reads per such pool
// (its block and its history by name), never a list of every block.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { decodeEntry } from '../api/internal/ipamblock.js';
import { canonicalIP, cidrRange, guessFamily, parseCIDR, parseIP } from '../core/ip/index.js';
import { decodeHolders } from '../history/record.js';
import { slotOf } from '../service/block-layout.js';
import { type ClusterRead, apiErrorText } from './cluster-read.js';
import { orDash, table, when } from './format.js';
import type { Out } from './ippool.js';

export interface WhoAnswer {
  ip: string;
  pool: string;
  block: string;
  offset: number;
  current?: { pod: string; uid: string; nic: string; node?: string; containerID?: string; since?: string; owner?: string; podPhase?: string };
  history: { pod: string; uid: string; nic: string; node?: string; containerID?: string; since?: string; until?: string }[];
  historyRecorded: boolean;
}

/** Exit codes: 0 held now; 1 not held now (free, or no pool covers it); 2 usage or API error. */
export async function ipWho(read: ClusterRead, kc: KubeConfig, text: string, out: Out): Promise<number> {
  let ip: string;
  let family: 4 | 6;
  try {
    ip = canonicalIP(text);
    family = guessFamily(ip);
  } catch (e) {
    out.stderr.write(`kubectl-spiderpool: ip who: ${JSON.stringify(text)} is not an IP address (${(e as Error).message}); e.g. kubectl spiderpool ip who 10.6.0.12\n`);
    return 2;
  }
  const value = parseIP(ip, { family }).value;
  const pools = (await read.pools()).filter((p) => {
    try {
      const c = parseCIDR(p.spec.subnet);
      if (c.family !== family) return false;
      const r = cidrRange(c);
      return value >= r.start && value <= r.end;
    } catch {
      return false;
    }
  });
  if (pools.length === 0) {
    if (out.json) out.stdout.write(`${JSON.stringify({ ip, answers: [] }, null, 2)}\n`);
    else out.stdout.write(`${ip}: no SpiderIPPool's subnet contains this address\n`);
    return 1;
  }
  const answers: WhoAnswer[] = [];
  for (const p of pools) {
    const name = p.metadata.name ?? '';
    const slot = slotOf(name, family, ip);
    const [block, history] = await Promise.all([read.block(slot.block.name), read.history(slot.block.name)]);
    const text = block?.spec.pool === name ? block.spec.allocations?.[String(slot.offset)] : undefined;
    const e = text === undefined ? undefined : decodeEntry(text);
    const holders = history?.spec.pool === name ? decodeHolders(history.spec.holders[String(slot.offset)]).holders : [];
    const a: WhoAnswer = {
      ip,
      pool: name,
      block: slot.block.name,
      offset: slot.offset,
      history: holders.map((h) => ({ pod: h.pod, uid: h.uid, nic: h.nic, ...(h.node ? { node: h.node } : {}), ...(h.cid ? { containerID: h.cid } : {}), ...(h.since ? { since: h.since } : {}), ...(h.until ? { until: h.until } : {}) })),
      historyRecorded: history !== undefined,
    };
    if (e instanceof Error) out.stderr.write(`warning: ${e.message}\n`);
    else if (e !== undefined) {
      a.current = { pod: e.pod, uid: e.uid, nic: e.nic, ...(e.node ? { node: e.node } : {}), ...(e.cid ? { containerID: e.cid } : {}), ...(e.at ? { since: e.at } : {}), ...(e.ok ? { owner: e.ok } : {}) };
      a.current.podPhase = await podPhase(kc, e.pod, e.uid);
    }
    // Pools that never saw the address (overlapping subnets, ip outside their spec.ips) are noise.
    if (a.current !== undefined || a.history.length > 0 || ipsCover(p.spec.ips ?? [], ip)) answers.push(a);
  }
  if (out.json) out.stdout.write(`${JSON.stringify({ ip, answers }, null, 2)}\n`);
  else out.stdout.write(answers.length === 0 ? `${ip}: in the subnet of ${pools.map((p) => p.metadata.name).join(', ')} but in no pool's spec.ips, and never held\n` : answers.map((a) => human(a, out.now)).join('\n'));
  return answers.some((a) => a.current !== undefined) ? 0 : 1;
}

function human(a: WhoAnswer, now: Date): string {
  let t = '';
  if (a.current) {
    const c = a.current;
    t += `${a.ip} is held in pool ${a.pool} (IPAMBlock ${a.block} slot ${a.offset})\n`;
    t += `  pod:        ${c.pod} (uid ${c.uid})\n  pod state:  ${c.podPhase}\n`;
    t += `  interface:  ${c.nic}\n  node:       ${orDash(c.node)}\n  container:  ${orDash(c.containerID)}\n`;
    t += `  owner:      ${orDash(c.owner)}\n  since:      ${when(c.since, now)}\n`;
  } else {
    t += `${a.ip} is free in pool ${a.pool} (IPAMBlock ${a.block} slot ${a.offset})\n`;
  }
  if (!a.historyRecorded) t += '  recent holders: none recorded (no IPAMHistory for this block yet)\n';
  else if (a.history.length === 0) t += '  recent holders: none\n';
  else {
    t += `  recent holders (newest first, IPAMHistory ${a.block}):\n`;
    const rows = a.history.map((h) => [h.pod, h.uid, h.nic, orDash(h.node), orDash(h.since), h.until ?? 'now (holding)']);
    t += table(['POD', 'UID', 'INTERFACE', 'NODE', 'SINCE', 'UNTIL'], rows).split('\n').map((l) => (l ? `    ${l}` : l)).join('\n');
  }
  return t;
}

/** "Running", "gone: …" — whether the holder still exists, so a leak is visible at a glance. */
async function podPhase(kc: KubeConfig, pod: string, uid: string): Promise<string> {
  const [namespace = '', name = ''] = [pod.slice(0, pod.indexOf('/')), pod.slice(pod.indexOf('/') + 1)];
  try {
    const p = await kc.makeApiClient(CoreV1Api).readNamespacedPod({ namespace, name });
    if (p.metadata?.uid !== uid) return `gone: a new pod of that name has uid ${p.metadata?.uid}; kubectl spiderpool check shows the leak`;
    return `${p.status?.phase ?? 'Unknown'}${p.metadata?.deletionTimestamp ? ', Terminating' : ''}`;
  } catch (e) {
    const text = apiErrorText(e);
    return text.startsWith('HTTP 404') ? 'gone: kubectl spiderpool check shows the leak' : `unknown: ${text}`;
  }
}

/** Whether `ip` is one of `ips` (single addresses or a-b ranges). */
function ipsCover(ips: readonly string[], ip: string): boolean {
  const family = guessFamily(ip);
  const v = parseIP(ip, { family }).value;
  for (const r of ips) {
    try {
      const [a, b = a] = r.split('-');
      if (v >= parseIP(a!, { family }).value && v <= parseIP(b!, { family }).value) return true;
    } catch {
      /* another family or malformed: not this one */
    }
  }
  return false;
}
