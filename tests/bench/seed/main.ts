// `npm run bench -- --scenario <name>`: the seed benchmark (../../../docs/benchmark.md) on simulated
// nodes, every IPAM in the same run, one after the other on fresh nodes and namespaces.
//
//   npm run bench -- --scenario 100x10-v4 [--ipam spiderpool-ts,host-local] [--pods N] [--nodes N]
//                    [--custom-ipam NAME=CONFLIST[:CNI_PATH]] [--off-seconds 5] [--settle 30]
//                    [--phase-timeout SEC (default 120 + 1.5/pod)] [--workers 16] [--out results/bench]
// Scenarios: smoke, or <D>x<R>-<v4|dual>[-2x] (e.g. 100x10-v4, 1x1000-dual, 100x10-v4-2x).
// Writes results/bench/<scenario>-<timestamp>/{results.json,results.md,running.svg}.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureCluster, repoRoot } from '../../support/cluster.js';
import type { BenchIpam } from './ipam.js';
import { customIpam, hostLocal } from './ipam-host-local.js';
import { ours } from './ipam-ours.js';
import { markdown, svgChart } from './report.js';
import { type IpamRun, isAborted, requestAbort, runIpam } from './run-ipam.js';
import { addressesPerFamily, nodePodCapacity, parseScenario, perNodeAddresses, totalPods } from './scenario.js';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'smoke' },
    ipam: { type: 'string', default: 'spiderpool-ts,host-local' },
    'custom-ipam': { type: 'string', multiple: true },
    pods: { type: 'string' },
    nodes: { type: 'string' },
    'off-seconds': { type: 'string', default: '5' },
    settle: { type: 'string', default: '30' },
    'phase-timeout': { type: 'string' },
    workers: { type: 'string', default: '16' },
    out: { type: 'string', default: 'results/bench' },
  },
});

const say = (msg: string, extra: Record<string, unknown> = {}) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}${Object.keys(extra).length ? ' ' + JSON.stringify(extra) : ''}\n`);

async function main(): Promise<void> {
  const scenario = parseScenario(values.scenario!, { pods: values.pods ? Number(values.pods) : undefined, nodes: values.nodes ? Number(values.nodes) : undefined });
  const known = new Map<string, BenchIpam>([[ours.name, ours], [hostLocal.name, hostLocal]]);
  for (const c of values['custom-ipam'] ?? []) {
    const m = /^([a-z0-9-]+)=([^:]+)(?::(.+))?$/.exec(c);
    if (!m) throw new Error(`--custom-ipam ${c}: expected NAME=CONFLIST[:CNI_PATH] (conflist with nodesim placeholders, e.g. \${NODE_INDEX})`);
    known.set(m[1]!, customIpam(m[1]!, resolve(m[2]!), m[3] ?? '/usr/lib/cni'));
  }
  const names = values.ipam!.split(',').map((s) => s.trim()).filter(Boolean);
  for (const c of values['custom-ipam'] ?? []) if (!names.includes(c.split('=')[0]!)) names.push(c.split('=')[0]!);
  const ipams = names.map((n) => {
    const i = known.get(n);
    if (!i) throw new Error(`--ipam ${n}: unknown (known: ${[...known.keys()].join(', ')}; add others with --custom-ipam)`);
    return i;
  });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const outDir = resolve(repoRoot, values.out!, `${scenario.name}-${stamp}`);
  mkdirSync(outDir, { recursive: true });
  const { kubeconfigPath } = await ensureCluster();
  const run = randomBytes(2).toString('hex');
  say('scenario', { ...scenario, pods: totalPods(scenario), addressesPerFamily: addressesPerFamily(scenario), hostLocalPerNode: perNodeAddresses(scenario), podCapacityPerNode: nodePodCapacity(scenario) ?? 250, ipams: names, outDir });

  let signals = 0;
  const onSignal = (sig: string) => {
    if (++signals > 1) process.exit(130);
    say(`${sig}: stopping the running phase and cleaning up (again to exit at once)`);
    requestAbort();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const runs: IpamRun[] = [];
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`;
  const write = () => {
    const title = `${scenario.name}: ${scenario.deployments} Deployment(s) × ${scenario.replicas} on ${scenario.nodes} nodes, ${scenario.dual ? 'dual stack' : 'IPv4'}, ${scenario.ipFactor === 1 ? 'IPs = pods' : `IPs = ${scenario.ipFactor}× pods`}`;
    writeFileSync(join(outDir, 'results.json'), JSON.stringify({ scenario, command, startedAt: stamp, hostLocalPerNodeAddresses: perNodeAddresses(scenario), podCapacityPerNode: nodePodCapacity(scenario) ?? 250, runs }, null, 2));
    writeFileSync(join(outDir, 'results.md'), markdown(title, runs, 'host-local', command));
    writeFileSync(join(outDir, 'running.svg'), svgChart(title, runs, totalPods(scenario)));
  };
  for (const ipam of ipams) {
    if (isAborted()) break;
    runs.push(await runIpam(ipam, {
      scenario,
      kubeconfig: kubeconfigPath,
      run,
      outDir,
      phaseTimeoutMs: (values['phase-timeout'] ? Number(values['phase-timeout']) : 120 + 1.5 * totalPods(scenario)) * 1000,
      settleMs: Number(values.settle) * 1000,
      offSeconds: Number(values['off-seconds']),
      workers: Number(values.workers),
      say,
    }));
    write();
  }
  process.stdout.write(markdown(scenario.name, runs, 'host-local', command));
  say('written', { outDir });
  const bad = runs.some((r) => r.error || r.phases.length < 4 || r.phases.some((p) => !p.ok || p.duplicateIPs > 0 || (p.leakedIPs ?? 0) > 0 || (p.phase !== 'delete' && p.podsWithoutIP > 0)));
  process.exit(bad ? 1 : 0);
}

main().catch((e: unknown) => {
  say(`failed: ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(2);
});
