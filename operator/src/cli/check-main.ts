// `npm run ipam:check -- [--json] [--pool P]... [--namespace N]... [--release [--yes]] [--kubeconfig F]`
//
// Exit codes: 0 no finding; 1 findings (after --release: findings left, the released leaks not
// counted); 2 usage or cluster error. runCheck is importable (tests call it with their own streams).
import { createInterface } from 'node:readline/promises';
import { pathToFileURL } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { type Finding, type ReleaseOutcome, analyze, readSnapshot, releaseLeaks } from './check.js';

export interface CheckArgs {
  json: boolean;
  release: boolean;
  yes: boolean;
  kubeconfig?: string;
  scope: { pools: string[]; namespaces: string[] };
  statefulSetKeepsIPs: boolean;
  help: boolean;
}

export const USAGE = `usage: ipam-check [--json] [--pool NAME]... [--namespace NS]... [--release [--yes]] [--kubeconfig FILE] [--no-statefulset-keeps-ips]
  Audits IPAMBlock records against pods, pools and SpiderEndpoints: duplicates, leaks, Running pods
  without a record, pool count drift, endpoints without a record, malformed entries.
  --release   release the leaks found (asks first; --yes does not ask), each re-checked right before
              and removed with the operator's compare-and-swap (pod uid + sequence number)
  exit: 0 no finding, 1 findings, 2 error`;

export function parseArgs(argv: readonly string[]): CheckArgs | Error {
  const a: CheckArgs = { json: false, release: false, yes: false, scope: { pools: [], namespaces: [] }, statefulSetKeepsIPs: true, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string | Error => {
      const v = argv[++i];
      return v === undefined || v.startsWith('--') ? new Error(`${arg} needs a value`) : v;
    };
    switch (arg) {
      case '--json':
        a.json = true;
        break;
      case '--release':
        a.release = true;
        break;
      case '--yes':
      case '-y':
        a.yes = true;
        break;
      case '--no-statefulset-keeps-ips':
        a.statefulSetKeepsIPs = false;
        break;
      case '--help':
      case '-h':
        a.help = true;
        break;
      case '--pool':
      case '--namespace':
      case '--kubeconfig': {
        const v = value();
        if (v instanceof Error) return v;
        if (arg === '--pool') a.scope.pools.push(v);
        else if (arg === '--namespace') a.scope.namespaces.push(v);
        else a.kubeconfig = v;
        break;
      }
      default:
        return new Error(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (a.yes && !a.release) return new Error('--yes only makes sense with --release');
  return a;
}

export interface CheckIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /** Default: --kubeconfig, else KUBECONFIG / in-cluster / ~/.kube/config. */
  kubeConfig?: KubeConfig;
}

export async function runCheck(argv: readonly string[], io: CheckIO): Promise<number> {
  const args = parseArgs(argv);
  if (args instanceof Error) {
    io.stderr.write(`ipam-check: ${args.message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let kc = io.kubeConfig;
  if (kc === undefined) {
    kc = new KubeConfig();
    if (args.kubeconfig) kc.loadFromFile(args.kubeconfig);
    else kc.loadFromDefault();
  }
  let findings: Finding[];
  try {
    findings = analyze(await readSnapshot(kc), { scope: args.scope, statefulSetKeepsIPs: args.statefulSetKeepsIPs });
  } catch (e) {
    io.stderr.write(`ipam-check: reading the cluster failed: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const leaks = findings.filter((f): f is Extract<Finding, { kind: 'leak' }> => f.kind === 'leak');

  let release: ReleaseOutcome | undefined;
  if (args.release && leaks.length > 0) {
    if (!args.yes && !(await confirm(io, `release ${leaks.length} leaked address(es)? [y/N] `))) {
      io.stderr.write('ipam-check: nothing released\n');
    } else {
      release = await releaseLeaks(kc, leaks, { statefulSetKeepsIPs: args.statefulSetKeepsIPs });
    }
  }
  const releasedSet = new Set(release?.released ?? []);
  const left = findings.filter((f) => f.kind !== 'leak' || !releasedSet.has(f.record));

  if (args.json) io.stdout.write(`${JSON.stringify({ findings, summary: summarize(findings), ...(release ? { release } : {}) }, null, 2)}\n`);
  else io.stdout.write(human(findings, release));
  return left.length === 0 ? 0 : 1;
}

async function confirm(io: CheckIO, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: false });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    return false;
  } finally {
    rl.close();
  }
}

export function summarize(findings: readonly Finding[]): Record<string, number> {
  const s: Record<string, number> = {};
  for (const f of findings) s[f.kind] = (s[f.kind] ?? 0) + 1;
  return s;
}

export function describeFinding(f: Finding): string {
  switch (f.kind) {
    case 'duplicate-record':
      return `duplicate record: ${f.ip} recorded by ${f.records.map((r) => `${r.pool} (pod ${r.pod} uid ${r.uid})`).join(' and ')}`;
    case 'duplicate-pod-ip':
      return `duplicate pod IP: ${f.ip} reported by live pods ${f.pods.join(', ')}`;
    case 'leak':
      return `leak (${f.reason}): ${f.record.ip} of pool ${f.record.pool} recorded for pod ${f.record.pod} uid ${f.record.uid} seq ${f.record.seq} (block ${f.record.block} slot ${f.record.offset})`;
    case 'pod-without-record':
      return `pod without record: ${f.pod} (uid ${f.uid}) is Running with an IPAM annotation and holds no address`;
    case 'count-drift':
      return `count drift: pool ${f.pool} status.allocatedIPCount ${f.statusAllocated ?? 'unset'}, records ${f.recorded}`;
    case 'endpoint-without-record':
      return `endpoint without record: SpiderEndpoint ${f.endpoint} shows uid ${f.uid || '(none)'}, which holds no address`;
    case 'malformed-entry':
      return `malformed entry: block ${f.block} slot ${f.offset}: ${f.message}`;
  }
}

function human(findings: readonly Finding[], release: ReleaseOutcome | undefined): string {
  const lines = findings.map(describeFinding);
  const summary = Object.entries(summarize(findings)).map(([k, n]) => `${n} ${k}`);
  lines.push(findings.length === 0 ? 'no findings' : `${findings.length} finding(s): ${summary.join(', ')}`);
  if (release) {
    for (const r of release.released) lines.push(`released ${r.ip} of pool ${r.pool} (pod ${r.pod} uid ${r.uid} seq ${r.seq})`);
    for (const s of release.skipped) lines.push(`not released ${s.record.ip} of pool ${s.record.pool}: ${s.why}`);
  }
  return `${lines.join('\n')}\n`;
}

// Run as a script (npm run ipam:check), not when imported.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runCheck(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then(
    // exit now: the API client's keep-alive connections would hold the process open for seconds
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`ipam-check: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(2);
    },
  );
}
