// `kubectl spiderpool ippool list` and `ippool show <name>`: the pools with their counts and
// conditions (as the operator derived them into status), and one pool's spec, counts, conditions and
// who holds which address (read from its IPAMBlocks, the records themselves).
import {
  LABEL_IPPOOL_OWNER_APPLICATION_KIND,
  LABEL_IPPOOL_OWNER_APPLICATION_NAME,
  LABEL_IPPOOL_OWNER_APPLICATION_NAMESPACE,
  LABEL_IPPOOL_OWNER_SPIDER_SUBNET,
} from '../api/v2beta1/constants.js';
import type { SpiderIPPool } from '../api/v2beta1/types.js';
import { CONDITION_EXHAUSTED, CONDITION_READY, conditionOf } from '../controllers/pool-conditions.js';
import { type ClusterRead, heldAddresses } from './cluster-read.js';
import { age, orDash, table, when } from './format.js';

export interface Out {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  now: Date;
  json: boolean;
}

/** spec.ipVersion, else the subnet's family (the webhook sets ipVersion; a pool created without it has none). */
const versionOf = (p: SpiderIPPool) => String(p.spec.ipVersion ?? (p.spec.subnet?.includes(':') ? 6 : 4));

const condStatus = (p: SpiderIPPool, type: string) => orDash(conditionOf(p.status?.conditions, type)?.status);

export async function ippoolList(read: ClusterRead, out: Out): Promise<number> {
  const pools = await read.pools();
  if (out.json) {
    out.stdout.write(`${JSON.stringify(pools.map((p) => ({ name: p.metadata.name, ipVersion: p.spec.ipVersion, subnet: p.spec.subnet, ...p.status, allocatedIPs: undefined, default: p.spec.default ?? false, disable: p.spec.disable ?? false })), null, 2)}\n`);
    return 0;
  }
  if (pools.length === 0) {
    out.stderr.write('No SpiderIPPools found.\n');
    return 0;
  }
  const rows = pools.map((p) => [
    p.metadata.name ?? '',
    versionOf(p),
    p.spec.subnet,
    orDash(p.status?.allocatedIPCount),
    orDash(p.status?.totalIPCount),
    orDash(p.status?.freeIPCount),
    String(p.spec.default ?? false),
    String(p.spec.disable ?? false),
    condStatus(p, CONDITION_READY),
    condStatus(p, CONDITION_EXHAUSTED),
    age(p.metadata.creationTimestamp, out.now),
  ]);
  out.stdout.write(table(['NAME', 'VERSION', 'SUBNET', 'ALLOCATED', 'TOTAL', 'FREE', 'DEFAULT', 'DISABLE', 'READY', 'EXHAUSTED', 'AGE'], rows));
  return 0;
}

export async function ippoolShow(read: ClusterRead, name: string, out: Out): Promise<number> {
  const pool = await read.pool(name);
  if (pool === undefined) {
    out.stderr.write(`kubectl-spiderpool: SpiderIPPool ${JSON.stringify(name)} not found (kubectl spiderpool ippool list shows the pools)\n`);
    return 1;
  }
  const { held, malformed } = heldAddresses(await read.blocksOf(name));
  held.sort((a, b) => a.block.localeCompare(b.block) || a.offset - b.offset);
  if (out.json) {
    out.stdout.write(`${JSON.stringify({ name, spec: pool.spec, status: { ...pool.status, allocatedIPs: undefined }, held: held.map((h) => ({ ip: h.ip, ...h.entry })), malformed }, null, 2)}\n`);
    return 0;
  }
  const s = pool.spec;
  const lines: [string, string][] = [
    ['Name', name],
    ['Subnet', `${s.subnet} (IPv${versionOf(pool)})`],
    ['IPs', orDash(s.ips?.join(', '))],
    ['Exclude IPs', orDash(s.excludeIPs?.join(', '))],
    ['Gateway', orDash(s.gateway)],
    ['Routes', orDash(s.routes?.map((r) => `${r.dst} via ${r.gw}`).join(', '))],
    ['Default', String(s.default ?? false)],
    ['Disable', String(s.disable ?? false)],
  ];
  if (s.nodeName?.length) lines.push(['Node names', s.nodeName.join(', ')]);
  if (s.nodeAffinity) lines.push(['Node affinity', JSON.stringify(s.nodeAffinity)]);
  if (s.namespaceName?.length) lines.push(['Namespaces', s.namespaceName.join(', ')]);
  if (s.namespaceAffinity) lines.push(['Namespace affinity', JSON.stringify(s.namespaceAffinity)]);
  if (s.podAffinity) lines.push(['Pod affinity', JSON.stringify(s.podAffinity)]);
  if (s.multusName?.length) lines.push(['Multus names', s.multusName.join(', ')]);
  const l = pool.metadata.labels ?? {};
  if (l[LABEL_IPPOOL_OWNER_APPLICATION_NAME]) {
    lines.push(['Auto pool of', `${l[LABEL_IPPOOL_OWNER_APPLICATION_KIND] ?? ''} ${l[LABEL_IPPOOL_OWNER_APPLICATION_NAMESPACE] ?? ''}/${l[LABEL_IPPOOL_OWNER_APPLICATION_NAME]} (subnet ${orDash(l[LABEL_IPPOOL_OWNER_SPIDER_SUBNET])})`]);
  }
  const st = pool.status;
  lines.push(['Counts', `allocated ${orDash(st?.allocatedIPCount)}, total ${orDash(st?.totalIPCount)}, free ${orDash(st?.freeIPCount)} (records in IPAMBlocks: ${held.length})`]);
  const width = Math.max(...lines.map(([k]) => k.length)) + 2;
  let text = lines.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`).join('\n') + '\n';
  text += '\nConditions:\n';
  const conds = st?.conditions ?? [];
  text += conds.length === 0
    ? '  (none yet: the operator writes them with the counts)\n'
    : indent(table(['TYPE', 'STATUS', 'REASON', 'GENERATION', 'SINCE', 'MESSAGE'], conds.map((c) => [c.type, c.status, c.reason, `${orDash(c.observedGeneration)}/${orDash(pool.metadata.generation)}`, age(c.lastTransitionTime, out.now), c.message])));
  text += `\nHolders (${held.length}):\n`;
  text += held.length === 0
    ? '  (none)\n'
    : indent(table(['IP', 'POD', 'INTERFACE', 'NODE', 'OWNER', 'SINCE'], held.map((h) => [h.ip, h.entry.pod, h.entry.nic, orDash(h.entry.node), orDash(h.entry.ok), when(h.entry.at, out.now)])));
  for (const m of malformed) text += `warning: ${m}\n`;
  out.stdout.write(text);
  return 0;
}

const indent = (t: string) => t.split('\n').map((l) => (l ? `  ${l}` : l)).join('\n');
