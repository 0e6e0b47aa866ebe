// IPv4 spec.ips / excludeIPs entries ("a.b.c.d" or "a.b.c.d-e.f.g.h") as address lists, for the
// chaos suite's "record outside the pool" count (its pools are IPv4 /22s: at most 1024 addresses).
const toNum = (ip: string): number => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const toIp = (v: number): string => [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');

export function expandIPRanges(entries: readonly string[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const [a, b = a] = e.split('-').map((x) => x.trim());
    if (!a || a.includes(':')) continue;
    for (let v = toNum(a); v <= toNum(b!) && out.length < 1 << 16; v++) out.push(toIp(v));
  }
  return out;
}
