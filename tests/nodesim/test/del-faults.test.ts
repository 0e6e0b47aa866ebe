// nodesim's DEL fault injection (--fail-del-percent / --fail-del-mode, used by the chaos suite):
// deterministic, evenly spread, the modes split as documented, bad values named.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommand } from '../config.js';
import { injectedDelFault } from '../runtime.js';

const faults = (percent: number, mode: 'retry' | 'lose' | 'mixed', n: number) => Array.from({ length: n }, (_, k) => injectedDelFault({ percent, mode }, k));

describe('injectedDelFault', () => {
  it('is off without faults or at 0 %', () => {
    expect(faults(0, 'retry', 50).every((f) => f === 'none')).toBe(true);
    expect(injectedDelFault(undefined, 3)).toBe('none');
  });

  it('fails exactly 20 of 100 DELs, every 5th, the same on every call', () => {
    const f = faults(20, 'retry', 100);
    expect(f.filter((x) => x !== 'none')).toHaveLength(20);
    expect(f.map((x, k) => (x === 'none' ? -1 : k)).filter((k) => k >= 0).slice(0, 4)).toEqual([4, 9, 14, 19]);
    expect(faults(20, 'retry', 100)).toEqual(f);
  });

  it('retry, lose, mixed', () => {
    expect(faults(20, 'lose', 100).filter((x) => x === 'lose')).toHaveLength(20);
    const mixed = faults(20, 'mixed', 100);
    expect(mixed.filter((x) => x === 'lose')).toHaveLength(10);
    expect(mixed.filter((x) => x === 'retry')).toHaveLength(10);
    expect(faults(100, 'retry', 7).every((x) => x === 'retry')).toBe(true);
  });
});

describe('--fail-del-percent / --fail-del-mode', () => {
  const conf = join(mkdtempSync(join(tmpdir(), 'spts-delfault-')), 'c.json');
  writeFileSync(conf, '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"x"}]}');
  const run = (...extra: string[]) => parseCommand(['run', '--kubeconfig', '/dev/null', '--count', '1', '--cni-config', conf, ...extra]);

  it('defaults to no faults, retry', () => {
    const c = run();
    expect(c.cmd === 'run' && c.opts.delFaults).toEqual({ percent: 0, mode: 'retry' });
  });
  it('parses both', () => {
    const c = run('--fail-del-percent', '20', '--fail-del-mode', 'mixed');
    expect(c.cmd === 'run' && c.opts.delFaults).toEqual({ percent: 20, mode: 'mixed' });
  });
  it('names a bad value', () => {
    expect(() => run('--fail-del-percent', '120')).toThrow(/--fail-del-percent/);
    expect(() => run('--fail-del-mode', 'sometimes')).toThrow(/--fail-del-mode: retry, lose or mixed/);
  });
});
