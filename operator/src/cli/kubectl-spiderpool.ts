// kubectl-spiderpool: the kubectl plugin (`kubectl spiderpool …`, the bundled
// operator/dist/kubectl-spiderpool on PATH) and `npm run cli -- …`. runCli is importable; main.ts
// beside it is the process entry. docs/cli.md has examples.
import { KubeConfig } from '@kubernetes/client-node';
import { runCheck } from './check-main.js';
import { ClusterRead, apiErrorText } from './cluster-read.js';
import { ipWho } from './ip-who.js';
import { ippoolList, ippoolShow } from './ippool.js';
import { releaseIPs } from './release.js';

export const CLI_USAGE = `usage: kubectl spiderpool <command> [flags]

commands:
  ippool list                 pools with VERSION, SUBNET, ALLOCATED, TOTAL, FREE, READY, EXHAUSTED
  ippool show <name>          spec summary, counts, conditions, and who holds which address
  ip who <ip>                 the pod holding the address now (node, container, since) and its
                              recent holders (IPAMHistory)
  check [check flags]         audit records against pods, pools and SpiderEndpoints (ipam check;
                              --json, --pool P, --namespace N, --no-statefulset-keeps-ips)
  release [--yes] [<ip>...]   release leaked addresses: the named ones, or every leak check finds
                              (asks first unless --yes; an address whose pod lives is refused)

flags:
  --kubeconfig FILE           default: KUBECONFIG, in-cluster, ~/.kube/config
  -o json                     machine-readable output (ippool list/show, ip who)
  -h, --help

exit codes: 0 success (ip who: the address is held; check: no finding); 1 not found / not held /
  findings / not released; 2 usage or API error`;

export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /** Default: --kubeconfig, else KUBECONFIG / in-cluster / ~/.kube/config. */
  kubeConfig?: KubeConfig;
  now?: () => Date;
}

interface Parsed {
  words: string[];
  passthrough: string[];
  kubeconfig?: string;
  json: boolean;
  yes: boolean;
  help: boolean;
  statefulSetKeepsIPs: boolean;
}

function parse(argv: readonly string[]): Parsed | Error {
  const p: Parsed = { words: [], passthrough: [], json: false, yes: false, help: false, statefulSetKeepsIPs: true };
  const isCheck = argv[0] === 'check' || (argv[0] === 'release' && !argv.slice(1).some((a) => !a.startsWith('-') && looksLikeIP(a)));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--kubeconfig' || a.startsWith('--kubeconfig=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (!v) return new Error('--kubeconfig needs a file');
      p.kubeconfig = v;
    } else if (a === '-h' || a === '--help') p.help = true;
    else if (a === '-o' || a === '--output' || a.startsWith('-o=') || a.startsWith('--output=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v !== 'json') return new Error(`-o ${v ?? ''}: only -o json is supported (the default is a table)`);
      p.json = true;
    } else if (isCheck && a.startsWith('-')) {
      // check's own flags (--json, --pool, --namespace, --yes, …) are check-main's to parse.
      p.passthrough.push(a);
      if ((a === '--pool' || a === '--namespace') && argv[i + 1] !== undefined) p.passthrough.push(argv[++i]!);
    } else if (a === '--yes' || a === '-y') p.yes = true;
    else if (a === '--no-statefulset-keeps-ips') p.statefulSetKeepsIPs = false;
    else if (a.startsWith('-')) return new Error(`unknown flag ${JSON.stringify(a)}`);
    else p.words.push(a);
  }
  return p;
}

const looksLikeIP = (s: string) => /^[0-9.]+$/.test(s) || s.includes(':');

export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const p = parse(argv);
  if (p instanceof Error) {
    io.stderr.write(`kubectl-spiderpool: ${p.message}\n${CLI_USAGE}\n`);
    return 2;
  }
  if (p.help || p.words.length === 0) {
    (p.help ? io.stdout : io.stderr).write(`${CLI_USAGE}\n`);
    return p.help ? 0 : 2;
  }
  let kc = io.kubeConfig;
  if (kc === undefined) {
    kc = new KubeConfig();
    try {
      if (p.kubeconfig) kc.loadFromFile(p.kubeconfig);
      else kc.loadFromDefault();
      // client-node's fallback when it found nothing: say so rather than fail on localhost:8080 later.
      if (!p.kubeconfig && kc.getCurrentCluster()?.server === 'http://localhost:8080') throw new Error('none found: set KUBECONFIG or pass --kubeconfig FILE');
    } catch (e) {
      io.stderr.write(`kubectl-spiderpool: cannot load the kubeconfig${p.kubeconfig ? ` ${p.kubeconfig}` : ''}: ${(e as Error).message}\n`);
      return 2;
    }
  }
  const out = { stdout: io.stdout, stderr: io.stderr, now: io.now?.() ?? new Date(), json: p.json };
  const read = new ClusterRead(kc);
  const [cmd, sub, ...rest] = p.words;
  const usage = (why: string) => {
    io.stderr.write(`kubectl-spiderpool: ${why}\n${CLI_USAGE}\n`);
    return 2;
  };
  try {
    switch (cmd) {
      case 'ippool':
      case 'ippools':
      case 'sp':
        if (sub === 'list' || sub === 'ls') return rest.length > 0 ? usage(`ippool list takes no argument, got ${rest.join(' ')}`) : await ippoolList(read, out);
        if (sub === 'show' || sub === 'get' || sub === 'describe') return rest.length !== 1 ? usage('ippool show needs exactly one pool name') : await ippoolShow(read, rest[0]!, out);
        return usage(sub === undefined ? 'ippool needs a subcommand: list or show <name>' : `unknown ippool subcommand ${JSON.stringify(sub)} (list, show <name>)`);
      case 'ip':
        if (sub === 'who') return rest.length !== 1 ? usage('ip who needs exactly one address') : await ipWho(read, kc, rest[0]!, out);
        return usage(sub === undefined ? 'ip needs a subcommand: who <ip>' : `unknown ip subcommand ${JSON.stringify(sub)} (who <ip>)`);
      case 'check':
        if (sub !== undefined) return usage(`check takes flags only, got ${[sub, ...rest].join(' ')}`);
        return await runCheck([...p.passthrough, ...(p.json ? ['--json'] : [])], { ...io, kubeConfig: kc });
      case 'release': {
        const ips = p.words.slice(1);
        if (ips.length === 0) return await runCheck(['--release', ...p.passthrough], { ...io, kubeConfig: kc });
        return await releaseIPs(kc, ips, { yes: p.yes, statefulSetKeepsIPs: p.statefulSetKeepsIPs }, io);
      }
      default:
        return usage(`unknown command ${JSON.stringify(cmd)}`);
    }
  } catch (e) {
    io.stderr.write(`kubectl-spiderpool: ${cmd}${sub ? ` ${sub}` : ''}: ${apiErrorText(e)}\n`);
    return 2;
  }
}
