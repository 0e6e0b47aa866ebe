import { hostname } from 'node:os';
import { DEFAULT_LOG_FILE, DEFAULT_TIMEOUT_MS, endpointHost, parseNetConf, peekVersion } from '../src/cni/config.js';
import { CniCode, CniError } from '../src/cni/errors.js';

const IPAM = {
  type: 'spiderpool-ts-ipam',
  operator_endpoint: '10.96.0.50:9443',
  tls_ca_file: '/etc/cni/net.d/spiderpool-ts/ca.crt',
  tls_cert_file: '/etc/cni/net.d/spiderpool-ts/node.crt',
  tls_key_file: '/etc/cni/net.d/spiderpool-ts/node.key',
};
const conf = (patch: Record<string, unknown> = {}, ipamPatch: Record<string, unknown> = {}) =>
  JSON.stringify({ cniVersion: '1.0.0', name: 'macvlan-net', type: 'macvlan', master: 'eth0', ipam: { ...IPAM, ...ipamPatch }, ...patch });

function errorOf(stdin: string): CniError {
  try {
    parseNetConf(stdin);
  } catch (e) {
    if (e instanceof CniError) return e;
    throw e;
  }
  throw new Error('expected a CniError');
}

describe('parseNetConf', () => {
  it('applies defaults', () => {
    const c = parseNetConf(conf());
    expect(c).toEqual({
      cniVersion: '1.0.0',
      name: 'macvlan-net',
      ipam: {
        endpoint: '10.96.0.50:9443',
        tls: { caFile: IPAM.tls_ca_file, certFile: IPAM.tls_cert_file, keyFile: IPAM.tls_key_file, serverName: '10.96.0.50' },
        timeoutMs: DEFAULT_TIMEOUT_MS,
        logFile: DEFAULT_LOG_FILE,
        logLevel: 'info',
        nodeName: hostname(),
        defaultIPv4Pools: [],
        defaultIPv6Pools: [],
        cleanGateway: undefined,
      },
      prevIPs: undefined,
      validAttachments: undefined,
    });
  });

  it('reads every optional field, Spiderpool key names included', () => {
    const c = parseNetConf(
      conf(
        {
          prevResult: { cniVersion: '1.0.0', interfaces: [{ name: 'eth0' }], ips: [{ address: '10.0.0.5/24', interface: 0 }] },
          'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }],
        },
        {
          operator_endpoint: '[fd00::10]:9443',
          tls_server_name: 'spiderpool-ts-operator.kube-system.svc',
          timeout_ms: 2500,
          log_file_path: '',
          log_level: 'DEBUG',
          node_name: 'worker-3',
          default_ipv4_ippool: ['v4-a', 'v4-b'],
          default_ipv6_ippool: ['v6-a'],
          cleangateway: true,
        },
      ),
    );
    expect(c.ipam).toMatchObject({
      endpoint: '[fd00::10]:9443',
      tls: { serverName: 'spiderpool-ts-operator.kube-system.svc' },
      timeoutMs: 2500,
      logFile: '',
      logLevel: 'debug',
      nodeName: 'worker-3',
      defaultIPv4Pools: ['v4-a', 'v4-b'],
      defaultIPv6Pools: ['v6-a'],
      cleanGateway: true,
    });
    expect(c.prevIPs).toEqual(['10.0.0.5/24']);
    expect(c.validAttachments).toEqual([{ containerId: 'c1', ifname: 'eth0' }]);
  });

  it.each([
    ['', CniCode.DecodeFailure, /^stdin: the network configuration is empty/],
    ['{"cniVersion": ', CniCode.DecodeFailure, /^stdin: the network configuration is not valid JSON/],
    ['[1]', CniCode.DecodeFailure, /^stdin: the network configuration is not a JSON object/],
    [conf({ cniVersion: undefined }), CniCode.InvalidConfig, /^cniVersion: is required/],
    [conf({ cniVersion: '0.2.0' }), CniCode.IncompatibleVersion, /^cniVersion: "0.2.0" is not supported \(supported: 0.3.1, 0.4.0, 1.0.0, 1.1.0\)/],
    [conf({ name: '' }), CniCode.InvalidConfig, /^name: is required/],
    [conf({ ipam: undefined }), CniCode.InvalidConfig, /^ipam: missing or not an object/],
    [conf({}, { operator_endpoint: undefined }), CniCode.InvalidConfig, /^ipam.operator_endpoint: is required/],
    [conf({}, { operator_endpoint: 'operator' }), CniCode.InvalidConfig, /^ipam.operator_endpoint: "operator" is not "host:port"/],
    [conf({}, { operator_endpoint: 'h:99999' }), CniCode.InvalidConfig, /^ipam.operator_endpoint: "h:99999"/],
    [conf({}, { operator_endpoint: 'fd00::1:9443' }), CniCode.InvalidConfig, /^ipam.operator_endpoint: .*IPv6: "\[addr\]:port"/],
    [conf({}, { tls_ca_file: undefined }), CniCode.InvalidConfig, /^ipam.tls_ca_file: is required/],
    [conf({}, { tls_cert_file: 7 }), CniCode.InvalidConfig, /^ipam.tls_cert_file: must be a string, got 7/],
    [conf({}, { tls_key_file: '' }), CniCode.InvalidConfig, /^ipam.tls_key_file: is required/],
    [conf({}, { timeout_ms: 0 }), CniCode.InvalidConfig, /^ipam.timeout_ms: must be an integer number of milliseconds in 1..600000, got 0/],
    [conf({}, { timeout_ms: '5s' }), CniCode.InvalidConfig, /^ipam.timeout_ms: .*got "5s"/],
    [conf({}, { log_level: 'verbose' }), CniCode.InvalidConfig, /^ipam.log_level: "verbose" is not one of debug, info, warn, error/],
    [conf({}, { default_ipv4_ippool: 'pool-a' }), CniCode.InvalidConfig, /^ipam.default_ipv4_ippool: must be an array of pool names/],
    [conf({}, { default_ipv6_ippool: ['ok', ''] }), CniCode.InvalidConfig, /^ipam.default_ipv6_ippool\[1\]: must be a non-empty pool name/],
    [conf({}, { cleangateway: 'yes' }), CniCode.InvalidConfig, /^ipam.cleangateway: must be true or false/],
    [conf({ prevResult: [] }), CniCode.InvalidConfig, /^prevResult: must be an object/],
    [conf({ prevResult: { ips: {} } }), CniCode.InvalidConfig, /^prevResult.ips: must be an array/],
    [conf({ prevResult: { ips: [{ address: '10.0.0.5' }] } }), CniCode.InvalidConfig, /^prevResult.ips\[0\].address: must be an address in CIDR form, got "10.0.0.5"/],
    [conf({ 'cni.dev/valid-attachments': {} }), CniCode.InvalidConfig, /^cni.dev\/valid-attachments: must be an array/],
    [conf({ 'cni.dev/valid-attachments': [{ containerID: 'c' }] }), CniCode.InvalidConfig, /^cni.dev\/valid-attachments\[0\]: must be \{"containerID": string, "ifname": string\}/],
  ])('%s → code %i: %s', (stdin, code, message) => {
    const err = errorOf(stdin);
    expect(err.message).toMatch(message);
    expect(err.code).toBe(code);
  });

  it('takes the host of an endpoint, IPv6 in brackets', () => {
    expect(endpointHost('operator.example:9443')).toBe('operator.example');
    expect(endpointHost('[fd00::1]:9443')).toBe('fd00::1');
  });

  it('peeks the version of anything that parses, for error results', () => {
    expect(peekVersion('{"cniVersion":"0.4.0","garbage":')).toBeUndefined();
    expect(peekVersion('{"cniVersion":"0.4.0"}')).toBe('0.4.0');
  });
});
