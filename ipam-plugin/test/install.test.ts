// The plugin installer's steps (src/install-steps.ts): template rendering, the operator endpoint from
// the kubelet's Service variables, and the atomic, idempotent file install.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { enrollUrl, installFile, operatorEndpoint, renderCniConfig, type TemplateVars } from '../src/install-steps.js';

const vars: TemplateVars = { NODE_NAME: 'worker-1', OPERATOR_ENDPOINT: '10.96.0.50:9443', TLS_SERVER_NAME: 'spiderpool-ts-operator.spiderpool-ts-system.svc', CERT_DIR: '/etc/cni/net.d/spiderpool-ts' };

describe('renderCniConfig', () => {
  test('the shipped template (config/installer/cni-config.yaml) renders to a conflist for this node', () => {
    const cm = parse(readFileSync(new URL('../../config/installer/cni-config.yaml', import.meta.url), 'utf8')) as { data: Record<string, string> };
    const r = renderCniConfig(cm.data['conflist.template']!, vars);
    if (!r.ok) throw new Error(r.error);
    const conf = JSON.parse(r.value) as { plugins: { ipam: Record<string, unknown> }[] };
    expect(conf.plugins[0]!.ipam).toMatchObject({
      type: 'spiderpool-ts-ipam',
      operator_endpoint: '10.96.0.50:9443',
      tls_server_name: 'spiderpool-ts-operator.spiderpool-ts-system.svc',
      tls_ca_file: '/etc/cni/net.d/spiderpool-ts/ca.crt',
      tls_cert_file: '/etc/cni/net.d/spiderpool-ts/node.crt',
      tls_key_file: '/etc/cni/net.d/spiderpool-ts/node.key',
      node_name: 'worker-1',
    });
  });

  test('an unknown placeholder is refused, naming it and the known ones', () => {
    const r = renderCniConfig('{"ipam":{"type":"spiderpool-ts-ipam","x":"${NODE}"}}', vars);
    expect(r).toEqual({ ok: false, error: expect.stringContaining('unknown placeholder(s) ${NODE}; known: ${NODE_NAME}') });
  });

  test('values are JSON-escaped (a quote cannot break out of its string)', () => {
    const r = renderCniConfig('{"ipam":{"type":"spiderpool-ts-ipam","node_name":"${NODE_NAME}"}}', { ...vars, NODE_NAME: 'a"b' });
    expect(r.ok && (JSON.parse(r.value) as { ipam: { node_name: string } }).ipam.node_name).toBe('a"b');
  });

  test('not JSON, or no plugin using the shim: refused before anything is written', () => {
    expect(renderCniConfig('{"plugins": [', vars)).toEqual({ ok: false, error: expect.stringContaining('not JSON after substitution') });
    expect(renderCniConfig('{"plugins":[{"type":"macvlan","ipam":{"type":"host-local"}}]}', vars)).toEqual({ ok: false, error: expect.stringContaining('no plugin has "ipam": {"type": "spiderpool-ts-ipam"}') });
  });
});

describe('operatorEndpoint', () => {
  test('OPERATOR_ENDPOINT wins', () => {
    expect(operatorEndpoint({ OPERATOR_ENDPOINT: 'op:1', SPIDERPOOL_TS_OPERATOR_SERVICE_HOST: '10.0.0.1' }, 'spiderpool-ts-operator')).toEqual({ ok: true, value: 'op:1' });
  });
  test("the kubelet's Service variables: the port named grpc (not the first port); IPv6 in brackets", () => {
    expect(operatorEndpoint({ SPIDERPOOL_TS_OPERATOR_SERVICE_HOST: '10.96.0.50', SPIDERPOOL_TS_OPERATOR_SERVICE_PORT: '1', SPIDERPOOL_TS_OPERATOR_SERVICE_PORT_GRPC: '9443' }, 'spiderpool-ts-operator')).toEqual({ ok: true, value: '10.96.0.50:9443' });
    expect(operatorEndpoint({ SPIDERPOOL_TS_OPERATOR_SERVICE_HOST: 'fd00::50', SPIDERPOOL_TS_OPERATOR_SERVICE_PORT_GRPC: '9443' }, 'spiderpool-ts-operator')).toEqual({ ok: true, value: '[fd00::50]:9443' });
    expect(operatorEndpoint({ SPIDERPOOL_TS_OPERATOR_SERVICE_HOST: '10.96.0.50', SPIDERPOOL_TS_OPERATOR_SERVICE_PORT: '9443' }, 'spiderpool-ts-operator').ok).toBe(false);
  });
  test('missing: the error says why and what to set', () => {
    const r = operatorEndpoint({}, 'spiderpool-ts-operator');
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/SPIDERPOOL_TS_OPERATOR_SERVICE_HOST.*did not exist when this pod started.*OPERATOR_ENDPOINT/) });
  });
});

describe('enrollUrl', () => {
  test('SPIDERPOOL_TS_ENROLL_URL wins; else https to the port named enroll of the Service ClusterIP (no DNS)', () => {
    expect(enrollUrl({ SPIDERPOOL_TS_ENROLL_URL: 'https://x:1' }, 'spiderpool-ts-operator')).toEqual({ ok: true, value: 'https://x:1' });
    expect(enrollUrl({ SPIDERPOOL_TS_OPERATOR_SERVICE_HOST: '10.96.0.50', SPIDERPOOL_TS_OPERATOR_SERVICE_PORT_GRPC: '9443', SPIDERPOOL_TS_OPERATOR_SERVICE_PORT_ENROLL: '9444' }, 'spiderpool-ts-operator')).toEqual({ ok: true, value: 'https://10.96.0.50:9444' });
    expect(enrollUrl({ SPIDERPOOL_TS_OPERATOR_SERVICE_HOST: '10.96.0.50' }, 'spiderpool-ts-operator')).toEqual({ ok: false, error: expect.stringContaining('SPIDERPOOL_TS_OPERATOR_SERVICE_PORT_ENROLL') });
  });
});

describe('installFile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'spts-install-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('writes with the mode, leaves no temporary file, and is a no-op for the same content', async () => {
    const bin = join(dir, 'opt', 'cni', 'bin');
    expect(await installFile(bin, 'shim', Buffer.from('v1'), 0o755)).toEqual({ ok: true, value: 'written' });
    expect(statSync(join(bin, 'shim')).mode & 0o777).toBe(0o755);
    const before = statSync(join(bin, 'shim')).ino;
    expect(await installFile(bin, 'shim', Buffer.from('v1'), 0o755)).toEqual({ ok: true, value: 'unchanged' });
    expect(statSync(join(bin, 'shim')).ino).toBe(before);
    expect(await installFile(bin, 'shim', Buffer.from('v2'), 0o755)).toEqual({ ok: true, value: 'written' });
    expect(readFileSync(join(bin, 'shim'), 'utf8')).toBe('v2');
    // replaced by rename: a new inode, never the old file rewritten in place
    expect(statSync(join(bin, 'shim')).ino).not.toBe(before);
    expect(readdirSync(bin)).toEqual(['shim']);
  });

  test('an unwritable target is an error naming the path', async () => {
    writeFileSync(join(dir, 'file'), 'x');
    const r = await installFile(join(dir, 'file', 'sub'), 'shim', 'x', 0o755);
    expect(r).toEqual({ ok: false, error: expect.stringContaining(join(dir, 'file', 'sub', 'shim')) });
  });
});
