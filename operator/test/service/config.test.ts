// Operator configuration: every problem named by its variable, all reported at once; defaults; the
// Lease identity carries the gRPC address followers point callers to.
import { ConfigError, leaderAddress, leaseIdentity, loadConfig } from '../../src/config.js';

const problems = (env: NodeJS.ProcessEnv): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
};

describe('loadConfig', () => {
  it('names every missing or malformed variable', () => {
    expect(problems({ GRPC_PORT: '70000', ENABLE_IPV6: 'yes', TLS_CERT_FILE: '/nonexistent/cert.pem' })).toEqual([
      'POD_NAME is required',
      'GRPC_PORT="70000": expected an integer in 1..65535',
      'GRPC_ADVERTISE_ADDRESS (or POD_IP) is required: followers name the leader by it',
      'POD_NAMESPACE is required',
      expect.stringMatching(/^TLS_CERT_FILE=\/nonexistent\/cert.pem: cannot read: ENOENT/),
      'TLS_KEY_FILE is required',
      'CLIENT_CA_FILE is required',
      'ENABLE_IPV6="yes": expected true or false',
    ]);
  });

  it('applies defaults and derives the advertised address from POD_IP', () => {
    const file = new URL(import.meta.url).pathname;
    const c = loadConfig({ POD_NAME: 'op-0', POD_NAMESPACE: 'kube-system', POD_IP: '10.0.0.7', TLS_CERT_FILE: file, TLS_KEY_FILE: file, CLIENT_CA_FILE: file });
    expect(c).toMatchObject({ grpcPort: 9443, advertiseAddress: '10.0.0.7:9443', healthPort: 8080, enableIPv4: true, enableIPv6: true, gcGraceMs: 60_000, leaseName: 'spiderpool-ts-operator' });
    expect(leaseIdentity(c)).toBe('op-0@10.0.0.7:9443');
    expect(leaderAddress(leaseIdentity(c))).toBe('10.0.0.7:9443');
    expect(leaderAddress('someone-else')).toBeUndefined();
    expect(leaderAddress(undefined)).toBeUndefined();
  });
});
