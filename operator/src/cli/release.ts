// `kubectl spiderpool release [IP...]`: releases leaked addresses with the GC engineer's code
// (check.ts: the same snapshot, the GC's rules, the re-check right before and the operator's
// compare-and-swap). Without IPs it is `ipam check --release`; with IPs only those, and an address
// that is not a leak is refused with why (its holder lives, or nothing holds it).
import { createInterface } from 'node:readline/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { canonicalIP } from '../core/ip/index.js';
import { type Finding, analyze, readSnapshot, recordsOf, releaseLeaks } from './check.js';
import { describeFinding } from './check-main.js';

type Leak = Extract<Finding, { kind: 'leak' }>;

export interface ReleaseIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

/** Exit codes: 0 every named address released; 1 some not (not a leak, changed hands, declined); 2 bad input or API error. */
export async function releaseIPs(kc: KubeConfig, ipsText: readonly string[], opts: { yes: boolean; statefulSetKeepsIPs: boolean }, io: ReleaseIO): Promise<number> {
  const ips: string[] = [];
  for (const t of ipsText) {
    try {
      ips.push(canonicalIP(t));
    } catch (e) {
      io.stderr.write(`kubectl-spiderpool: release: ${JSON.stringify(t)} is not an IP address (${(e as Error).message})\n`);
      return 2;
    }
  }
  const snap = await readSnapshot(kc);
  const findings = analyze(snap, { statefulSetKeepsIPs: opts.statefulSetKeepsIPs });
  const leaks = findings.filter((f): f is Leak => f.kind === 'leak' && ips.includes(f.record.ip));
  const { records } = recordsOf(snap.blocks);
  let refused = 0;
  for (const ip of ips) {
    if (leaks.some((l) => l.record.ip === ip)) continue;
    refused++;
    const held = records.filter((r) => r.ip === ip);
    io.stdout.write(
      held.length === 0
        ? `not released ${ip}: no pool records it (nothing to release)\n`
        : `not released ${ip}: held by ${held.map((r) => `pod ${r.pod} uid ${r.uid} (pool ${r.pool})`).join(', ')}, which is not a leak: its pod exists (or its StatefulSet will recreate it); delete the pod to free it\n`,
    );
  }
  if (leaks.length === 0) return 1;
  for (const l of leaks) io.stdout.write(`${describeFinding(l)}\n`);
  if (!opts.yes && !(await confirm(io, `release ${leaks.length} leaked address(es)? [y/N] `))) {
    io.stderr.write('kubectl-spiderpool: nothing released\n');
    return 1;
  }
  const outcome = await releaseLeaks(kc, leaks, { statefulSetKeepsIPs: opts.statefulSetKeepsIPs });
  for (const r of outcome.released) io.stdout.write(`released ${r.ip} of pool ${r.pool} (pod ${r.pod} uid ${r.uid} seq ${r.seq})\n`);
  for (const s of outcome.skipped) io.stdout.write(`not released ${s.record.ip} of pool ${s.record.pool}: ${s.why}\n`);
  return refused === 0 && outcome.skipped.length === 0 ? 0 : 1;
}

async function confirm(io: ReleaseIO, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: false });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } catch {
    return false;
  } finally {
    rl.close();
  }
}
