// Configuration of the agent path: `ipam.agent_socket` in the CNI config, and the agent's own flags.
import { parseAgentConfig, DEFAULT_AGENT_SOCKET } from '../src/agent/config.js';
import { parseNetConf } from '../src/cni/config.js';
import { CniCode, CniError } from '../src/cni/errors.js';

const conf = (ipam: Record<string, unknown>) => JSON.stringify({ cniVersion: '1.0.0', name: 'macvlan-net', type: 'macvlan', ipam: { type: 'spiderpool-ts-ipam', ...ipam } });

function cniError(stdin: string): CniError {
  try {
    parseNetConf(stdin);
  } catch (e) {
    if (e instanceof CniError) return e;
    throw e;
  }
  throw new Error('expected a CniError');
}

describe('ipam.agent_socket', () => {
  it('makes operator_endpoint and tls_* optional', () => {
    const c = parseNetConf(conf({ agent_socket: '/run/spiderpool-ts/agent.sock', node_name: 'node-1' }));
    expect(c.ipam).toMatchObject({ agentSocket: '/run/spiderpool-ts/agent.sock', endpoint: '', tls: { caFile: '', certFile: '', keyFile: '', serverName: '' } });
  });

  it('still validates an operator_endpoint given beside it', () => {
    expect(cniError(conf({ agent_socket: '/run/a.sock', operator_endpoint: 'nope' })).message).toMatch(/^ipam.operator_endpoint: "nope" is not "host:port"/);
  });

  it('must be an absolute path string; the error names the field', () => {
    for (const bad of ['agent.sock', '', 42]) {
      const err = cniError(conf({ agent_socket: bad }));
      expect(err.code).toBe(CniCode.InvalidConfig);
      expect(err.message).toMatch(/^ipam.agent_socket: must be/);
    }
  });

  it('without it, the direct mode still requires the endpoint and TLS files', () => {
    expect(cniError(conf({ tls_ca_file: '/a', tls_cert_file: '/b', tls_key_file: '/c' })).message).toMatch(/^ipam.operator_endpoint: is required/);
    expect(cniError(conf({ operator_endpoint: 'op:9443', tls_cert_file: '/b', tls_key_file: '/c' })).message).toMatch(/^ipam.tls_ca_file: is required/);
  });
});

describe('spiderpool-ts-agent flags', () => {
  const files = ['--tls-ca-file', '/etc/x/ca.crt', '--tls-cert-file', '/etc/x/node.crt', '--tls-key-file=/etc/x/node.key'];

  it('reads flags, then the environment, with defaults', () => {
    const c = parseAgentConfig(['--operator-endpoint', 'operator.svc:9443', ...files], { AGENT_TIMEOUT_MS: '2500', AGENT_LOG_LEVEL: 'DEBUG' });
    expect(c).toEqual({
      socketPath: DEFAULT_AGENT_SOCKET,
      endpoint: 'operator.svc:9443',
      caFile: '/etc/x/ca.crt',
      certFile: '/etc/x/node.crt',
      keyFile: '/etc/x/node.key',
      serverName: 'operator.svc',
      timeoutMs: 2500,
      drainMs: 5000,
      logLevel: 'debug',
    });
    expect(parseAgentConfig(files, { AGENT_OPERATOR_ENDPOINT: '[fd00::1]:9443', AGENT_SOCKET: '/tmp/a.sock' })).toMatchObject({ serverName: 'fd00::1', socketPath: '/tmp/a.sock' });
  });

  it('names the flag, its variable and the fix', () => {
    const err = (argv: string[], env: Record<string, string> = {}) => {
      try {
        parseAgentConfig(argv, env);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err(files)).toMatch(/^--operator-endpoint \(or \$AGENT_OPERATOR_ENDPOINT\): is required/);
    expect(err(['--operator-endpoint', 'op', ...files])).toMatch(/^--operator-endpoint .*"op" is not "host:port"/);
    expect(err(['--operator-endpoint', 'op:1', '--tls-ca-file', 'ca.crt', '--tls-cert-file', '/b', '--tls-key-file', '/c'])).toMatch(/^--tls-ca-file .*must be an absolute path/);
    expect(err(['--operator-endpoint', 'op:1', ...files, '--timeout-ms', '0'])).toMatch(/^--timeout-ms .*1\.\.600000, got "0"/);
    expect(err(['--operator-endpoint', 'op:1', ...files, '--socket', 'rel.sock'])).toMatch(/^--socket .*absolute path/);
    expect(err(['--operator-endpoint', 'op:1', ...files, '--socket', '/' + 'x'.repeat(120)])).toMatch(/^--socket .*107 bytes/);
    expect(err(['--bogus', '1'])).toMatch(/^unknown argument "--bogus"\nusage:/);
    expect(err(['--operator-endpoint'])).toMatch(/^--operator-endpoint: needs a value/);
  });
});

describe('spiderpool-ts-agent in the DaemonSet', () => {
  const files = { AGENT_TLS_CA_FILE: '/c/ca.crt', AGENT_TLS_CERT_FILE: '/c/node.crt', AGENT_TLS_KEY_FILE: '/c/node.key' };

  it('takes the operator endpoint from the Service variables the kubelet injects (IPv6 bracketed)', () => {
    const svc = { OPERATOR_SERVICE_NAME: 'spiderpool-ts-operator', SPIDERPOOL_TS_OPERATOR_SERVICE_PORT_GRPC: '9443' };
    expect(parseAgentConfig([], { ...files, ...svc, SPIDERPOOL_TS_OPERATOR_SERVICE_HOST: '10.96.0.50' }).endpoint).toBe('10.96.0.50:9443');
    expect(parseAgentConfig([], { ...files, ...svc, SPIDERPOOL_TS_OPERATOR_SERVICE_HOST: 'fd00::50' }).endpoint).toBe('[fd00::50]:9443');
    expect(parseAgentConfig(['--operator-endpoint', 'x:1'], { ...files, ...svc, SPIDERPOOL_TS_OPERATOR_SERVICE_HOST: 'fd00::50' }).endpoint).toBe('x:1');
    expect(() => parseAgentConfig([], { ...files, OPERATOR_SERVICE_NAME: 'spiderpool-ts-operator' })).toThrow(/^--operator-endpoint .*not set, and the Service spiderpool-ts-operator: SPIDERPOOL_TS_OPERATOR_SERVICE_HOST/);
  });
});
