// Operator configuration: every problem named by its variable, all reported at once; defaults; the
// Lease identity carries the gRPC address followers point callers to.
import { rmSync } from 'node:fs';
import { makePki } from '../../../ipam-plugin/test/support/pki.js';
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

  it('refuses a client CA file that is not a certificate', () => {
    const file = new URL(import.meta.url).pathname;
    expect(problems({ POD_NAME: 'op-0', POD_NAMESPACE: 'ns', POD_IP: '10.0.0.7', TLS_CERT_FILE: file, TLS_KEY_FILE: file, CLIENT_CA_FILE: file })).toEqual([
      expect.stringMatching(/^CLIENT_CA_FILE=.*config.test.ts: not a PEM certificate: /),
    ]);
  });

  it('applies defaults and derives the advertised address from POD_IP', () => {
    const pki = makePki();
    const files = { TLS_CERT_FILE: pki.serverCertFile, TLS_KEY_FILE: pki.serverKeyFile, CLIENT_CA_FILE: pki.caFile };
    let c;
    try {
      c = loadConfig({ POD_NAME: 'op-0', POD_NAMESPACE: 'kube-system', POD_IP: '10.0.0.7', ...files });
    } finally {
      rmSync(pki.dir, { recursive: true, force: true });
    }
    expect(c).toMatchObject({ grpcPort: 9443, advertiseAddress: '10.0.0.7:9443', healthPort: 8080, enableIPv4: true, enableIPv6: true, gcGraceMs: 60_000, leaseName: 'spiderpool-ts-operator' });
    expect(c.lease).toEqual({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    expect(leaseIdentity(c)).toBe('op-0@10.0.0.7:9443');
    expect(leaderAddress(leaseIdentity(c))).toBe('10.0.0.7:9443');
    expect(leaderAddress('someone-else')).toBeUndefined();
    expect(leaderAddress(undefined)).toBeUndefined();
  });

  it('takes Lease timings from the environment and refuses unsafe ones', () => {
    const pki = makePki();
    const base = { POD_NAME: 'op-0', POD_NAMESPACE: 'ns', POD_IP: '10.0.0.7', TLS_CERT_FILE: pki.serverCertFile, TLS_KEY_FILE: pki.serverKeyFile, CLIENT_CA_FILE: pki.caFile };
    try {
      expect(loadConfig({ ...base, LEASE_DURATION_SECONDS: '6', LEASE_RENEW_DEADLINE_SECONDS: '4', LEASE_RETRY_PERIOD_SECONDS: '1' }).lease).toEqual({
        leaseDurationMs: 6_000,
        renewDeadlineMs: 4_000,
        retryPeriodMs: 1_000,
      });
      expect(problems({ ...base, LEASE_DURATION_SECONDS: '5', LEASE_RENEW_DEADLINE_SECONDS: '5' })).toEqual([
        'LEASE_DURATION_SECONDS=5, LEASE_RENEW_DEADLINE_SECONDS=5, LEASE_RETRY_PERIOD_SECONDS=2: need duration > renew deadline > retry period',
      ]);
      expect(problems({ ...base, LEASE_DURATION_SECONDS: 'soon' })).toEqual(['LEASE_DURATION_SECONDS="soon": expected an integer in 2..600', expect.stringContaining('need duration > renew deadline')]);
    } finally {
      rmSync(pki.dir, { recursive: true, force: true });
    }
  });
});
