// kubectl-spiderpool without a cluster: usage errors and bad input answer with exit 2 and a message
// naming what was wrong before any API call; --help is 0; the table and age helpers.
import { PassThrough, Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { age, table } from '../../src/cli/format.js';
import { CLI_USAGE, runCli } from '../../src/cli/kubectl-spiderpool.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (to: string[]) => new Writable({ write: (c: Buffer, _e, cb) => (to.push(c.toString()), cb()) });
  // An apiserver nobody listens on: a test that reached the API would fail, not hang on a real one.
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
  return { stdout: sink(out), stderr: sink(err), stdin: new PassThrough(), kubeConfig: kc, out: () => out.join(''), err: () => err.join('') };
}

describe('runCli usage', () => {
  it.each([
    [[], 'usage: kubectl spiderpool'],
    [['bogus'], 'unknown command "bogus"'],
    [['ippool'], 'ippool needs a subcommand: list or show <name>'],
    [['ippool', 'show'], 'ippool show needs exactly one pool name'],
    [['ippool', 'frob'], 'unknown ippool subcommand "frob"'],
    [['ip', 'who'], 'ip who needs exactly one address'],
    [['ip', 'who', '10.0.0.300'], '"10.0.0.300" is not an IP address'],
    [['ippool', 'list', '-o', 'yaml'], '-o yaml: only -o json is supported'],
    [['ippool', 'list', '--frob'], 'unknown flag "--frob"'],
    [['check', 'extra'], 'check takes flags only'],
    [['release', '10.0.0.1', '--kubeconfig'], '--kubeconfig needs a file'],
  ])('%j → exit 2: %s', async (argv, message) => {
    const t = io();
    expect(await runCli(argv, t)).toBe(2);
    expect(t.err()).toContain(message);
  });

  it('--help prints the usage on stdout, exit 0', async () => {
    const t = io();
    expect(await runCli(['--help'], t)).toBe(0);
    expect(t.out()).toBe(`${CLI_USAGE}\n`);
  });

  it('an unreachable apiserver is exit 2 naming the command', async () => {
    const t = io();
    expect(await runCli(['ippool', 'list'], t)).toBe(2);
    expect(t.err()).toMatch(/^kubectl-spiderpool: ippool list: /);
  });
});

describe('format', () => {
  it('pads columns like kubectl get, no trailing spaces', () => {
    expect(table(['NAME', 'FREE'], [['a-long-name', '1'], ['b', '10']])).toBe('NAME          FREE\na-long-name   1\nb             10\n');
  });
  it('ages as kubectl prints them', () => {
    const now = new Date('2026-11-21T12:00:00Z');
    expect(age('2026-11-21T11:59:30Z', now)).toBe('30s');
    expect(age('2026-11-21T11:00:00Z', now)).toBe('60m');
    expect(age('2026-11-20T12:00:00Z', now)).toBe('24h');
    expect(age('2026-11-01T12:00:00Z', now)).toBe('20d');
    expect(age(undefined, now)).toBe('-');
  });
});
