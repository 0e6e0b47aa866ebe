// The invariants checked after every run, polled until they hold or the settle bound passes:
//   1. every live pod (not Terminating, not finished) of the run has a unique IP;
//   2. every allocated IP (a record in the pool's IPAMBlocks) belongs to a pod that exists with that
//      UID and has not finished (no StatefulSets in these scenarios: no kept identities);
//   3. every Running pod's IP is recorded under its UID;
//   4. `ipam check` (operator/src/cli/check.ts: readSnapshot + analyze, scoped to the run's pool and
//      namespace) reports zero findings: duplicates, leaks, records without pods, pods without
//      records, count drift, endpoints without records, malformed entries;
//   5. (when given) the expected number of pods is Running.
import type { V1Pod } from '@kubernetes/client-node';
import { analyze, readSnapshot, recordsOf } from '../../operator/src/cli/check.js';
import { expandIPRanges } from './ranges.js';
import type { Stack } from './stack.js';

export interface InvariantReport {
  ok: boolean;
  livePods: number;
  running: number;
  records: number;
  duplicateLiveIPs: number;
  recordsWithoutLivePod: number;
  runningWithoutRecord: number;
  /** Records whose address is outside the pool's spec.ips minus excludeIPs now (information). */
  recordsOutsidePool?: number;
  findings: number;
  findingKinds: Record<string, number>;
  /** A few examples, for the report. */
  examples: string[];
}

const finished = (p: V1Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

export async function checkOnce(s: Stack, expectedRunning?: number): Promise<InvariantReport> {
  const snap = await readSnapshot(s.kc);
  const findings = analyze(snap, { scope: { pools: [s.pool], namespaces: [s.namespace] } });
  const findingKinds: Record<string, number> = {};
  for (const f of findings) findingKinds[f.kind] = (findingKinds[f.kind] ?? 0) + 1;
  const examples = findings.slice(0, 3).map((f) => JSON.stringify(f).slice(0, 300));

  const pods = snap.pods.filter((p) => p.metadata?.namespace === s.namespace);
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp && !finished(p));
  const byIp = new Map<string, number>();
  for (const p of live) for (const ip of new Set((p.status?.podIPs ?? []).map((i) => i.ip))) byIp.set(ip, (byIp.get(ip) ?? 0) + 1);
  const duplicateLiveIPs = [...byIp.values()].filter((n) => n > 1).length;

  const { records: all } = recordsOf(snap.blocks);
  const records = all.filter((r) => r.pool === s.pool);
  const existing = new Map(pods.filter((p) => !finished(p)).map((p) => [p.metadata!.uid!, p]));
  const orphans = records.filter((r) => !existing.has(r.uid));
  for (const r of orphans.slice(0, 3)) examples.push(`record ${r.ip} for ${r.pod} uid ${r.uid}: no such live pod`);
  const recorded = new Set(records.map((r) => `${r.uid}/${r.ip}`));
  const running = live.filter((p) => p.status?.phase === 'Running' && p.status.podIP);
  const unrecorded = running.filter((p) => !(p.status?.podIPs ?? []).every((i) => recorded.has(`${p.metadata!.uid}/${i.ip}`)));
  for (const p of unrecorded.slice(0, 3)) examples.push(`pod ${p.metadata?.name} ${p.status?.podIP}: not recorded under its uid`);

  const pool = snap.pools.find((p) => p.metadata?.name === s.pool);
  let recordsOutsidePool: number | undefined;
  if (pool) {
    const inPool = new Set(expandIPRanges(pool.spec?.ips ?? []));
    for (const x of expandIPRanges(pool.spec?.excludeIPs ?? [])) inPool.delete(x);
    recordsOutsidePool = records.filter((r) => !inPool.has(r.ip)).length;
  }
  const runningOk = expectedRunning === undefined || running.length === expectedRunning;
  if (!runningOk) examples.push(`${running.length} pods Running, expected ${expectedRunning}`);
  return {
    ok: findings.length === 0 && duplicateLiveIPs === 0 && orphans.length === 0 && unrecorded.length === 0 && runningOk,
    livePods: live.length,
    running: running.length,
    records: records.length,
    duplicateLiveIPs,
    recordsWithoutLivePod: orphans.length,
    runningWithoutRecord: unrecorded.length,
    ...(recordsOutsidePool !== undefined ? { recordsOutsidePool } : {}),
    findings: findings.length,
    findingKinds,
    examples,
  };
}

/** Polls checkOnce until it holds (then once more a second later, to be sure it is not a passing moment) or `boundMs` passes. */
export async function settle(s: Stack, boundMs: number, expectedRunning?: number): Promise<{ seconds: number; report: InvariantReport }> {
  const t0 = Date.now();
  let report: InvariantReport | undefined;
  for (;;) {
    try {
      report = await checkOnce(s, expectedRunning);
      if (report.ok) {
        const held = (Date.now() - t0) / 1000;
        await new Promise((r) => setTimeout(r, 1000));
        const again = await checkOnce(s, expectedRunning);
        if (again.ok) return { seconds: held, report: again };
        report = again;
      }
    } catch (e) {
      report = { ok: false, livePods: 0, running: 0, records: 0, duplicateLiveIPs: 0, recordsWithoutLivePod: 0, runningWithoutRecord: 0, findings: -1, findingKinds: {}, examples: [`check failed: ${(e as Error).message}`] };
    }
    if (Date.now() - t0 > boundMs) return { seconds: (Date.now() - t0) / 1000, report };
    await new Promise((r) => setTimeout(r, 1000));
  }
}
