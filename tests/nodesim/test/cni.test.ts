// The CNI executor against fake plugins (shell scripts): conflist order and prevResult, DEL in
// reverse with the cached result, CNI_* env, error JSON, timeouts, IPAM-only delegation; plus the
// template and node-list parsing. No cluster, no netns.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CniRuntimeConf } from '../cni.js';
import { CniError, addIpamOnly, addNetworkList, delNetworkList, parseNetworkConfig, resultIPs } from '../cni.js';
import { nodeIPFor, parseNodes, renderNetwork } from '../config.js';
import { KeyedQueue } from '../workqueue.js';

const dir = mkdtempSync(join(tmpdir(), 'spts-cni-test-'));
const calls = join(dir, 'calls.log');

function plugin(name: string, body: string): void {
  const f = join(dir, name);
  writeFileSync(
    f,
    `#!/bin/bash
stdin=$(cat)
printf '%s %s %s %s %s %s\\n' "${name}" "$CNI_COMMAND" "$CNI_CONTAINERID" "$CNI_NETNS" "$CNI_IFNAME" "$CNI_ARGS" >> ${calls}
printf '%s\\n' "$stdin" >> ${calls}.stdin
${body}
`,
  );
  chmodSync(f, 0o755);
}

plugin('main', `[ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}],"ips":[{"address":"198.18.0.5/24"},{"address":"2001:db8::5/64"}]}'; exit 0`);
plugin('chained', `[ "$CNI_COMMAND" = ADD ] && echo "$stdin" | sed -n 's/.*"prevResult":\\(.*\\)}$/\\1/p'; exit 0`);
plugin('ipam', `[ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"0.4.0","ips":[{"version":"4","address":"198.18.1.7/24"}]}'; exit 0`);
plugin('broken', `echo '{"cniVersion":"1.0.0","code":11,"msg":"no IP addresses available","details":"range 198.18.0.0/30"}'; exit 1`);
plugin('slow', `sleep 5`);

const rt = (over: Partial<CniRuntimeConf> = {}): CniRuntimeConf => ({
  containerId: 'c'.repeat(64),
  netns: '/run/netns/x',
  ifName: 'eth0',
  args: [['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'p']],
  cniPath: ['/nonexistent', dir],
  execPrefix: [],
  timeoutMs: 5000,
  ...over,
});

const lines = (f: string): string[] => readFileSync(f, 'utf8').trim().split('\n');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  writeFileSync(calls, '');
  writeFileSync(`${calls}.stdin`, '');
});

test('conflist ADD runs plugins in order with prevResult; DEL in reverse with the cached result', async () => {
  const list = parseNetworkConfig({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'main', ipam: { type: 'ipam' } }, { type: 'chained' }] });
  const res = await addNetworkList(list, rt());
  expect(resultIPs(res)).toEqual(['198.18.0.5', '2001:db8::5']);
  expect(lines(calls).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['main ADD', 'chained ADD']);
  expect(lines(calls)[0]).toBe(`main ADD ${'c'.repeat(64)} /run/netns/x eth0 IgnoreUnknown=1;K8S_POD_NAME=p`);
  const stdins = lines(`${calls}.stdin`).map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(stdins[0]).toMatchObject({ type: 'main', name: 'n', cniVersion: '1.0.0' });
  expect(stdins[0]!.prevResult).toBeUndefined();
  expect(stdins[1]).toMatchObject({ type: 'chained', prevResult: { ips: [{ address: '198.18.0.5/24' }, { address: '2001:db8::5/64' }] } });

  writeFileSync(calls, '');
  writeFileSync(`${calls}.stdin`, '');
  await delNetworkList(list, rt({ netns: '' }), res);
  expect(lines(calls).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['chained DEL', 'main DEL']);
  expect(lines(`${calls}.stdin`).map((l) => (JSON.parse(l) as { prevResult?: unknown }).prevResult)).toEqual([res, res]);
});

test('DEL passes no prevResult for cniVersion 0.3.1 (as libcni)', async () => {
  const list = parseNetworkConfig({ cniVersion: '0.3.1', name: 'n', type: 'main' });
  await delNetworkList(list, rt(), { ips: [] });
  expect((JSON.parse(lines(`${calls}.stdin`)[0]!) as { prevResult?: unknown }).prevResult).toBeUndefined();
});

test('plugin errors carry the CNI code and message; missing plugins and timeouts are errors', async () => {
  const list = parseNetworkConfig({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'broken' }] });
  const err = await addNetworkList(list, rt()).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CniError);
  expect((err as CniError).cniCode).toBe(11);
  expect((err as Error).message).toBe('plugin type="broken" failed (add): no IP addresses available: range 198.18.0.0/30');
  await expect(addNetworkList(parseNetworkConfig({ cniVersion: '1.0.0', name: 'n', type: 'absent' }), rt())).rejects.toThrow(/failed to find plugin "absent"/);
  await expect(addNetworkList(parseNetworkConfig({ cniVersion: '1.0.0', name: 'n', type: 'slow' }), rt({ timeoutMs: 300 }))).rejects.toThrow(/timed out after 300 ms/);
});

test('ipam-only execs the ipam.type plugin with the main plugin config', async () => {
  const list = parseNetworkConfig({ cniVersion: '0.4.0', name: 'n', plugins: [{ type: 'main', ipam: { type: 'ipam', subnet: 'x' } }] });
  const res = await addIpamOnly(list, rt());
  expect(resultIPs(res)).toEqual(['198.18.1.7']);
  expect(lines(calls).map((l) => l.split(' ')[0])).toEqual(['ipam']);
  expect(JSON.parse(lines(`${calls}.stdin`)[0]!)).toEqual({ type: 'main', name: 'n', cniVersion: '0.4.0', ipam: { type: 'ipam', subnet: 'x' } });
});

test('config validation and template rendering', () => {
  expect(() => parseNetworkConfig({ cniVersion: '0.2.1', name: 'n', type: 'x' })).toThrow(/unsupported cniVersion/);
  expect(() => parseNetworkConfig({ cniVersion: '1.0.0', name: 'n', plugins: [] })).toThrow(/empty/);
  const net = renderNetwork('{"cniVersion":"1.0.0","name":"n","type":"host-local","subnet":"198.18.${NODE_INDEX}.0/24","dataDir":"${NODE_STATE_DIR}/hl"}', {
    NODE_INDEX: '3',
    NODE_STATE_DIR: '/s/nodes/a-3',
  });
  expect(net.plugins[0]).toEqual({ type: 'host-local', subnet: '198.18.3.0/24', dataDir: '/s/nodes/a-3/hl' });
  expect(() => renderNetwork('{"x":"${NODE_IDX}"}', {})).toThrow(/unknown placeholder \$\{NODE_IDX\}/);
});

test('node lists: explicit index, trailing number, position; IPs in 198.19/16', () => {
  expect(parseNodes('sim-4,alpha,beta=9', undefined, 'x').map((n) => [n.name, n.index])).toEqual([['sim-4', 4], ['alpha', 1], ['beta', 9]]);
  expect(parseNodes(undefined, 3, 'p').map((n) => n.name)).toEqual(['p-0', 'p-1', 'p-2']);
  expect(() => parseNodes('a-1,b-1', undefined, 'x')).toThrow(/duplicate node indexes/);
  expect(() => parseNodes('Bad_Name', undefined, 'x')).toThrow(/invalid node name/);
  expect(nodeIPFor(0)).toBe('198.19.0.1');
  expect(nodeIPFor(254)).toBe('198.19.1.1');
});

test('pod workers: one key never concurrent, bounded concurrency, dirty re-run, backoff retry', async () => {
  let running = 0;
  let maxRunning = 0;
  const perKey = new Map<string, number>();
  const active = new Set<string>();
  let failOnce = true;
  const q = new KeyedQueue(
    { concurrency: 3, retryBaseMs: 20, retryMaxMs: 40 },
    async (k) => {
      expect(active.has(k)).toBe(false);
      active.add(k);
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 10));
      running--;
      active.delete(k);
      perKey.set(k, (perKey.get(k) ?? 0) + 1);
      if (k === 'f' && failOnce) {
        failOnce = false;
        throw new Error('boom');
      }
    },
    () => undefined,
  );
  for (let i = 0; i < 10; i++) q.add(`k${i}`);
  q.add('k0'); // queued already: no duplicate
  await new Promise((r) => setTimeout(r, 5));
  q.add('k0'); // running now: re-run once afterwards
  q.add('f');
  await new Promise((r) => setTimeout(r, 200));
  expect(maxRunning).toBe(3);
  expect(perKey.get('k0')).toBe(2);
  expect(perKey.get('k5')).toBe(1);
  expect(perKey.get('f')).toBe(2);
  expect(await q.shutdown(1000)).toBe(true);
});
