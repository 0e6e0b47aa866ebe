// The chaos suite's summary: one row per scenario (runs passed, settle time of each run, pods,
// findings at the end of each run) and the scenario's figures per run.
import type { RunResult } from './runner.js';

const fmt = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : String(Math.round(v * 10) / 10));

export function markdown(results: RunResult[], command: string, settleBoundSec: number): string {
  const names = [...new Set(results.map((r) => r.scenario))];
  const lines = [
    `Command: \`${command}\` — settle bound ${settleBoundSec} s per run.`,
    '',
    '| scenario | runs passed | settle time per run (s) | pods | findings per run | key figures per run |',
    '|---|---|---|---|---|---|',
  ];
  for (const n of names) {
    const rs = results.filter((r) => r.scenario === n);
    const passed = rs.filter((r) => r.ok).length;
    const settle = rs.map((r) => (r.ok ? fmt(r.settleSec) : 'FAIL')).join(' / ');
    const findings = rs.map((r) => (r.invariants ? String(r.invariants.findings + r.invariants.duplicateLiveIPs + r.invariants.recordsWithoutLivePod + r.invariants.runningWithoutRecord) : '—')).join(' / ');
    const key = rs.map((r) => keyFigures(r)).join('; ');
    lines.push(`| ${n} | ${passed}/${rs.length} | ${settle} | ${rs[0]!.pods} | ${findings} | ${key} |`);
  }
  const failed = results.filter((r) => !r.ok);
  if (failed.length) {
    lines.push('', 'Failures:');
    for (const r of failed) lines.push(`- ${r.scenario} #${r.run}: ${(r.error ?? '').slice(0, 600)} (logs: ${r.workDir})`);
  }
  return lines.join('\n') + '\n';
}

const KEYS: Record<string, string[]> = {
  'leader-kill': ['runningAtKill', 'leaseTakenOverAfterSec', 'allRunningAfterKillSec'],
  'apiserver-restart': ['runningAtRestart', 'componentBackAfterSec', 'allRunningAfterRestartSec', 'operatorRestarts'],
  'etcd-restart': ['runningAtRestart', 'componentBackAfterSec', 'allRunningAfterRestartSec', 'operatorRestarts'],
  'node-poweroff': ['podsOnNode', 'notReadyAfterSec', 'gcReleasedAfterSec', 'allRunningAfterPowerOffSec', 'terminatingGoneAfterPowerOnSec'],
  'del-failures': ['delInjected', 'delLost', 'rebuildSec'],
  'duplicate-add': ['repeatedAddsOnRunningPods', 'concurrentAddPods', 'concurrentAddErrors'],
  'add-deleted-pod': ['outcomes'],
  'pool-edits': ['runningAtEdit', 'allRunningAfterEditSec', 'recordsAboveKept'],
};

function keyFigures(r: RunResult): string {
  const keys = KEYS[r.scenario] ?? [];
  return keys.filter((k) => r.figures[k] !== undefined).map((k) => `${k}=${typeof r.figures[k] === 'object' ? JSON.stringify(r.figures[k]).replace(/"/g, '') : fmt(r.figures[k] as number)}`).join(', ');
}
