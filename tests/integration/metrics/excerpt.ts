// A few lines of the operator's /metrics worth showing a person (npm run demo): allocations, failures,
// latency (mean from the histogram's sum/count), the pool's gauges and the group commit's batches.
const SHOWN = [
  'spiderpool_ts_leader',
  'spiderpool_ipam_allocation_counts',
  'spiderpool_ipam_allocation_failure_counts',
  'spiderpool_ipam_allocation_duration_seconds_count',
  'spiderpool_ipam_release_counts',
  'spiderpool_ippool_total_ip_counts',
  'spiderpool_ippool_allocated_ip_counts',
  'spiderpool_ippool_available_ip_counts',
  'spiderpool_ts_ippool_exhaustion_seconds',
  'spiderpool_ts_group_commit_batch_size_count',
  'spiderpool_ts_group_commit_batch_size_sum',
  'spiderpool_ts_ipamblock_conflicts_total',
];

export function metricsExcerpt(text: string, pool: string): string {
  const lines = text.split('\n').filter((l) => !l.startsWith('#') && l.trim() !== '');
  const value = (name: string) => Number(lines.find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? NaN);
  const shown = lines.filter((l) => {
    const name = /^[a-z_:]+/.exec(l)?.[0] ?? '';
    if (!SHOWN.includes(name)) return false;
    if (l.includes('pool="') && !l.includes(`pool="${pool}"`)) return false;
    // Failure reasons that never happened are noise here.
    return !(name.endsWith('_failure_counts') && / 0$/.test(l));
  });
  const mean = value('spiderpool_ipam_allocation_duration_seconds_sum') / value('spiderpool_ipam_allocation_duration_seconds_count');
  if (Number.isFinite(mean)) shown.push(`# mean Allocate latency: ${(mean * 1000).toFixed(1)} ms (histogram sum / count)`);
  return shown.join('\n');
}
