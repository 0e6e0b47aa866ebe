// TLS_MODE=operator-ca (the Deployment's mode, security/bootstrap.ts): no TLS files are read or
// required; the serving certificate's names, the enroll port and the installer account come from
// the environment with the defaults config/manager relies on.
import { ConfigError, loadConfig } from '../../src/config.js';

const base = { POD_NAME: 'op-0', POD_NAMESPACE: 'spiderpool-ts-system', POD_IP: '10.0.0.7' };
const problems = (env: NodeJS.ProcessEnv): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
};

describe('TLS_MODE', () => {
  it('operator-ca: no TLS files, SANs and enroll settings from the environment, installer defaults', () => {
    const c = loadConfig({ ...base, TLS_MODE: 'operator-ca', SERVER_DNS_NAMES: 'spiderpool-ts-operator.spiderpool-ts-system.svc, spiderpool-ts-operator.spiderpool-ts-system.svc.cluster.local' });
    expect(c.tls.certChain.length).toBe(0);
    expect(c.pki).toEqual({
      serverDnsNames: ['spiderpool-ts-operator.spiderpool-ts-system.svc', 'spiderpool-ts-operator.spiderpool-ts-system.svc.cluster.local'],
      serverIPAddresses: ['10.0.0.7'],
      enrollPort: 9444,
      installer: { namespace: 'spiderpool-ts-system', serviceAccount: 'spiderpool-ts-installer' },
    });
  });

  it('operator-ca: overrides', () => {
    const c = loadConfig({ ...base, TLS_MODE: 'operator-ca', SERVER_DNS_NAMES: 'a.svc', SERVER_IP_ADDRESSES: '127.0.0.1,::1', ENROLL_PORT: '0', INSTALLER_NAMESPACE: 'other', INSTALLER_SERVICE_ACCOUNT: 'inst' });
    expect(c.pki).toEqual({ serverDnsNames: ['a.svc'], serverIPAddresses: ['127.0.0.1', '::1'], enrollPort: 0, installer: { namespace: 'other', serviceAccount: 'inst' } });
  });

  it('operator-ca without SERVER_DNS_NAMES, or an unknown mode, is named', () => {
    expect(problems({ ...base, TLS_MODE: 'operator-ca' })).toEqual([expect.stringMatching(/^SERVER_DNS_NAMES is required with TLS_MODE=operator-ca/)]);
    expect(problems({ ...base, TLS_MODE: 'magic' })).toContain('TLS_MODE="magic": expected files or operator-ca');
    expect(problems({ ...base, TLS_MODE: 'operator-ca', SERVER_DNS_NAMES: 'x', ENROLL_PORT: '70000' })).toEqual(['ENROLL_PORT="70000": expected an integer in 0..65535']);
  });

  it('files (the default) still requires the three files and has no pki', () => {
    expect(problems(base)).toEqual(['TLS_CERT_FILE is required', 'TLS_KEY_FILE is required', 'CLIENT_CA_FILE is required']);
  });
});

describe('advertise address from POD_IP', () => {
  it('an IPv6 pod IP is bracketed (host network on a v6-only cluster)', () => {
    expect(loadConfig({ ...base, POD_IP: 'fd00::7', TLS_MODE: 'operator-ca', SERVER_DNS_NAMES: 'a.svc' }).advertiseAddress).toBe('[fd00::7]:9443');
    expect(loadConfig({ ...base, TLS_MODE: 'operator-ca', SERVER_DNS_NAMES: 'a.svc' }).advertiseAddress).toBe('10.0.0.7:9443');
  });
});
