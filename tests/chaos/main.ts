// `npm run chaos`: the chaos suite (docs/reliability.md) on its own local control plane instance.
//
//   npm run chaos -- [--scenario name[,name]] [--repeat 3] [--pods N] [--settle 120]
//                    [--cluster-dir /tmp/spiderpool-ts-chaos] [--port-base 24790] [--out results/chaos]
//                    [--keep-cluster] [--list]
//
// Scenarios: leader-kill, apiserver-restart, etcd-restart, node-poweroff, del-failures,
// duplicate-add, add-deleted-pod, pool-edits (default: all, in that order). Writes
// results/chaos/<timestamp>/{results.json,results.md} plus each run's logs; prints the table.
// Exit 0 when every run passed. Ctrl-C: the running scenario stops, its run and the cluster are torn
// down (a second Ctrl-C exits at once).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../support/cluster.js';
import { markdown } from './report.js';
import { SCENARIOS } from './scenarios/index.js';
import { runSuite } from './suite.js';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string' },
    repeat: { type: 'string', default: '3' },
    pods: { type: 'string' },
    settle: { type: 'string', default: '120' },
    'cluster-dir': { type: 'string', default: '/tmp/spiderpool-ts-chaos' },
    'port-base': { type: 'string', default: '24790' },
    out: { type: 'string', default: 'results/chaos' },
    'keep-cluster': { type: 'boolean' },
    list: { type: 'boolean' },
  },
});

const say = (msg: string, extra: Record<string, unknown> = {}) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${msg}${Object.keys(extra).length ? ' ' + JSON.stringify(extra) : ''}\n`);

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} ${v}: expected a positive integer`);
  return n;
}

async function main(): Promise<number> {
  if (values.list) {
    for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(18)} ${s.title} (default ${s.defaultPods} pods)\n`);
    return 0;
  }
  const wanted = values.scenario?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted?.filter((w) => !SCENARIOS.some((s) => s.name === w)) ?? [];
  if (unknown.length) throw new Error(`--scenario ${unknown.join(',')}: unknown (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const scenarios = wanted ? SCENARIOS.filter((s) => wanted.includes(s.name)) : SCENARIOS;
  const pods = positiveInt('pods', values.pods);
  if (pods !== undefined && pods > 700) throw new Error(`--pods ${pods}: at most 700 (a run's pool lives in one /22)`);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const outDir = resolve(repoRoot, values.out!, stamp);
  const command = `npm run chaos -- ${process.argv.slice(2).join(' ')}`.trim();
  const settleBoundMs = positiveInt('settle', values.settle)! * 1000;
  say('chaos suite', { scenarios: scenarios.map((s) => s.name), repeat: Number(values.repeat), pods: pods ?? 'scenario defaults', outDir });
  const suite = runSuite({
    scenarios,
    repeat: positiveInt('repeat', values.repeat)!,
    ...(pods !== undefined ? { pods } : {}),
    settleBoundMs,
    clusterDir: values['cluster-dir']!,
    portBase: positiveInt('port-base', values['port-base'])!,
    outDir,
    command,
    keepCluster: !!values['keep-cluster'],
    say,
  });
  let signals = 0;
  const onSignal = (sig: string) => {
    if (++signals > 1) process.exit(130);
    say(`${sig}: stopping the running scenario, tearing down (again to exit at once)`);
    suite.abort();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const results = await suite.done;
  process.stdout.write('\n' + markdown(results, command, settleBoundMs / 1000));
  say('written', { outDir });
  if (signals > 0) return 130;
  return results.length > 0 && results.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    say(`failed: ${e instanceof Error ? e.stack : String(e)}`);
    process.exit(2);
  },
);
