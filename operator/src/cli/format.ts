// Plain-text output helpers of kubectl-spiderpool: kubectl-style aligned tables and ages.

/** Columns padded to the widest cell, separated by three spaces, like `kubectl get`. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** `5s`, `3m`, `2h`, `4d` since `at` (RFC 3339), as kubectl prints ages; `-` when unknown. */
export function age(at: string | Date | undefined, now: Date): string {
  if (at === undefined) return '-';
  const t = (typeof at === 'string' ? new Date(at) : at).getTime();
  if (Number.isNaN(t)) return '-';
  const s = Math.max(0, Math.floor((now.getTime() - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 2 * 3600) return `${Math.floor(s / 60)}m`;
  if (s < 2 * 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export const orDash = (v: string | number | boolean | undefined | null): string => (v === undefined || v === null || v === '' ? '-' : String(v));

/** "2026-11-21T10:00:00Z (3m ago)". */
export const when = (at: string | undefined, now: Date): string => (at ? `${at} (${age(at, now)} ago)` : '-');
