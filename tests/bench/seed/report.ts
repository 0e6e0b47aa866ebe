// The run's outputs: a Markdown table shaped like the seed's (one row per IPAM, one column per phase,
// then the ratios to the baseline) with the per-phase details, and an SVG chart of pods Running over
// time per IPAM and phase (hand-written SVG: one panel per phase, one polyline per IPAM).
import type { IpamRun, PhaseName, PhaseResult } from './run-ipam.js';

export const PHASES: PhaseName[] = ['create', 'rebuild', 'recovery', 'delete'];

const fmt = (s: number | null | undefined): string => {
  if (s === null || s === undefined) return 'failed';
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)}m${Math.round(s % 60)}s (${s.toFixed(0)} s)`;
};
const phaseOf = (r: IpamRun, p: PhaseName): PhaseResult | undefined => r.phases.find((x) => x.phase === p);
const val = (v: unknown): string => (v === null || v === undefined ? 'n/a' : String(v));

export function markdown(title: string, runs: IpamRun[], baseline: string | undefined, command: string): string {
  const lines: string[] = [`### ${title}`, '', `\`${command}\``, '', `| IPAM | ${PHASES.join(' | ')} |`, `|---|${PHASES.map(() => '---:').join('|')}|`];
  for (const r of runs) lines.push(`| ${r.ipam} | ${PHASES.map((p) => fmt(phaseOf(r, p)?.seconds)).join(' | ')} |`);
  const base = runs.find((r) => r.ipam === baseline);
  if (base) {
    for (const r of runs.filter((x) => x !== base)) {
      const ratios = PHASES.map((p) => {
        const a = phaseOf(r, p)?.seconds;
        const b = phaseOf(base, p)?.seconds;
        return a && b ? `${(a / b).toFixed(2)}×` : 'n/a';
      });
      lines.push(`| ${r.ipam} / ${base.ipam} | ${ratios.join(' | ')} |`);
    }
  }
  lines.push('', '| IPAM | phase | time | pod startup p50/p90/p99 (ms) | CNI ADD p50/p99 (ms) | ADD failures | retried syncs | duplicate IPs | leaked IPs | pods without IP | notes |', '|---|---|---:|---|---|---:|---:|---:|---:|---:|---|');
  for (const r of runs) {
    for (const p of r.phases) {
      const st = p.podStartupMs ? `${val(p.podStartupMs.p50)} / ${val(p.podStartupMs.p90)} / ${val(p.podStartupMs.p99)}` : 'n/a';
      const add = p.cniAddMs ? `${val(p.cniAddMs.p50)} / ${val(p.cniAddMs.p99)} (n=${p.cniAddMs.count})` : 'n/a';
      const notes: string[] = [];
      if (p.error) notes.push(p.error.slice(0, 120));
      const x = p.extra;
      if (p.phase === 'recovery' && x.pods !== undefined) notes.push(`same IP ${val(x.sameIPs)}/${val(x.pods)}, ${val(x.fromPowerOnSeconds)} s from power-on (off ${val(x.offSeconds)} s)`);
      if (p.phase === 'delete') notes.push(`pods gone ${val(x.allPodsGoneSeconds)} s, IPs free ${val(x.ipsFreeAfterLastPodSeconds)} s after the last pod`);
      if (p.phase === 'rebuild' && x.oldPodsLeft !== undefined) notes.push(`old pods left at the end: ${val(x.oldPodsLeft)}`);
      if (p.checkerFindings) notes.push(`ipam check findings: ${p.checkerFindings.count}`);
      lines.push(`| ${r.ipam} | ${p.phase} | ${fmt(p.seconds)} | ${st} | ${add} | ${val(p.failures)} | ${val(p.retries)} | ${p.duplicateIPs} | ${val(p.leakedIPs)} | ${p.phase === 'delete' ? 'n/a' : p.podsWithoutIP} | ${notes.join('; ')} |`);
    }
    if (r.error) lines.push(`| ${r.ipam} | (run) | failed | | | | | | | | ${r.error.split('\n')[0]} |`);
  }
  lines.push(...cpuTable(runs));
  return lines.join('\n') + '\n';
}

const CPU_COLUMNS = ['plugin execs', 'kube-apiserver', 'etcd', 'kube-controller-manager', 'kube-scheduler', 'simulator', 'harness', 'other'];

/** CPU seconds per phase and component (tests/bench/seed/cpu-accounting.ts); the IPAM's daemons summed, named in the last column. */
function cpuTable(runs: IpamRun[]): string[] {
  if (!runs.some((r) => r.phases.some((p) => p.cpuSeconds))) return [];
  const lines = [
    '',
    'CPU seconds per phase, from /proc (the plugin execs are the simulator\'s reaped children; "other" is every other process on the machine):',
    '',
    `| IPAM | phase | ${CPU_COLUMNS.slice(0, 1).join(' | ')} | per exec (ms) | IPAM daemons | ${CPU_COLUMNS.slice(1).join(' | ')} | daemons |`,
    `|---|---|${Array.from({ length: CPU_COLUMNS.length + 2 }, () => '---:').join('|')}|---|`,
  ];
  for (const r of runs) {
    for (const p of r.phases) {
      const c = p.cpuSeconds;
      if (!c) continue;
      const daemons = Object.entries(c).filter(([k]) => k.startsWith('ipam daemon: '));
      const daemonSum = Math.round(daemons.reduce((n, [, v]) => n + v, 0) * 10) / 10;
      // Plugin execs of the phase: ADDs counted by the simulator, plus DELs where the phase has them.
      const sim = p.extra.simulator as { cniAddMs?: { count?: number }; cniDelMs?: { count?: number } } | undefined;
      const execs = (sim?.cniAddMs?.count ?? 0) + (sim?.cniDelMs?.count ?? 0);
      const perExec = execs > 0 && c['plugin execs'] !== undefined ? ((c['plugin execs'] * 1000) / execs).toFixed(1) : 'n/a';
      const named = daemons.map(([k, v]) => `${k.slice('ipam daemon: '.length)} ${v}`).join(', ');
      lines.push(`| ${r.ipam} | ${p.phase} | ${val(c['plugin execs'])} | ${perExec} | ${daemonSum} | ${CPU_COLUMNS.slice(1).map((k) => val(c[k])).join(' | ')} | ${named} |`);
    }
  }
  return lines;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Pods Running over time: one panel per phase (delete: pods left), one line per IPAM. */
export function svgChart(title: string, runs: IpamRun[], total: number): string {
  const W = 460;
  const H = 260;
  const M = { l: 50, r: 10, t: 30, b: 35 };
  const panels = PHASES.map((p, i) => {
    const x0 = (i % 2) * W;
    const y0 = 30 + Math.floor(i / 2) * H;
    const series = runs.map((r) => phaseOf(r, p)?.runningOverTime ?? []);
    const tMax = Math.max(1, ...series.flatMap((s) => s.map(([t]) => t)));
    const sx = (t: number) => x0 + M.l + (t / tMax) * (W - M.l - M.r);
    const sy = (n: number) => y0 + M.t + (1 - n / Math.max(1, total)) * (H - M.t - M.b);
    const out: string[] = [
      `<rect x="${x0 + M.l}" y="${y0 + M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="none" stroke="#999"/>`,
      `<text x="${x0 + W / 2}" y="${y0 + 18}" text-anchor="middle" font-weight="bold">${p}${p === 'delete' ? ' (pods left)' : ' (pods Running)'}</text>`,
      `<text x="${x0 + M.l - 4}" y="${sy(total) + 4}" text-anchor="end">${total}</text>`,
      `<text x="${x0 + M.l - 4}" y="${sy(0) + 4}" text-anchor="end">0</text>`,
      `<text x="${x0 + M.l}" y="${y0 + H - 12}">0 s</text>`,
      `<text x="${x0 + W - M.r}" y="${y0 + H - 12}" text-anchor="end">${tMax.toFixed(0)} s</text>`,
    ];
    series.forEach((s, j) => {
      if (!s.length) return;
      out.push(`<polyline fill="none" stroke="${COLORS[j % COLORS.length]}" stroke-width="2" points="${s.map(([t, n]) => `${sx(t).toFixed(1)},${sy(n).toFixed(1)}`).join(' ')}"/>`);
    });
    return out.join('\n');
  });
  const legend = runs.map((r, j) => `<text x="${10 + j * 160}" y="${2 * H + 50}" fill="${COLORS[j % COLORS.length]}" font-weight="bold">■ ${esc(r.ipam)}</text>`).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${2 * H + 60}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="18" font-size="14" font-weight="bold">${esc(title)}</text>
${panels.join('\n')}
${legend}
</svg>
`;
}
