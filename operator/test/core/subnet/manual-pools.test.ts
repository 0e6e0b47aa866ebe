import type { SpiderIPPool } from '../../../src/api/v2beta1/types.js';
import { LABEL_IPPOOL_OWNER_APPLICATION_UID } from '../../../src/api/v2beta1/constants.js';
import { freeSet, manualPoolAddresses } from '../../../src/core/subnet/index.js';

const pool = (name: string, ips: string[], labels: Record<string, string> = {}): SpiderIPPool => ({
  apiVersion: 'spiderpool.spidernet.io/v2beta1',
  kind: 'SpiderIPPool',
  metadata: { name, labels },
  spec: { subnet: '198.19.0.0/16', ips },
});

describe('manualPoolAddresses', () => {
  it('lists hand-made pools, not auto pools, and skips entries that do not parse', () => {
    const got = manualPoolAddresses([
      pool('sample', ['198.19.1.10-198.19.1.59']),
      pool('auto4-web-eth0-abcde', ['198.19.1.60-198.19.1.69'], { [LABEL_IPPOOL_OWNER_APPLICATION_UID]: 'u1' }),
      pool('broken', ['not-an-ip', '2001:db8::5']),
    ]);
    expect(got).toEqual(['198.19.1.10-198.19.1.59', '2001:db8::5']);
  });

  it('keeps an auto pool from being carved over a hand-made pool in the same subnet (config/samples)', () => {
    const subnet = { ipVersion: 4 as const, subnet: '198.19.0.0/16', ips: ['198.19.1.1-198.19.1.250'], excludeIPs: ['198.19.1.1-198.19.1.9'] };
    const free = freeSet(subnet, manualPoolAddresses([pool('sample', ['198.19.1.10-198.19.1.59'])]), {});
    expect(free.toStrings()[0]).toBe('198.19.1.60-198.19.1.250');
  });
});
