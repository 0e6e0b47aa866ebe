// The GC's environment switches (operator/src/config.ts): Spiderpool's defaults, and each bad value
// named by its variable.
import { rmSync } from 'node:fs';
import { makePki } from '../../../ipam-plugin/test/support/pki.js';
import { ConfigError, loadConfig } from '../../src/config.js';

function load(extra: NodeJS.ProcessEnv) {
  const pki = makePki();
  try {
    return loadConfig({ POD_NAME: 'op-0', POD_NAMESPACE: 'ns', POD_IP: '10.0.0.7', TLS_CERT_FILE: pki.serverCertFile, TLS_KEY_FILE: pki.serverKeyFile, CLIENT_CA_FILE: pki.caFile, ...extra });
  } finally {
    rmSync(pki.dir, { recursive: true, force: true });
  }
}

describe('GC configuration', () => {
  it('defaults to Spiderpool\'s: enabled, both Terminating switches on, no extra delay; scan every 5 minutes', () => {
    expect(load({}).gc).toEqual({ enabled: true, dryRun: false, scanIntervalMs: 300_000, terminatingOnReadyNode: true, terminatingOnNotReadyNode: true, additionalGraceDelayMs: 0 });
  });

  it('reads every switch', () => {
    const gc = load({
      GC_IP_ENABLED: 'false',
      GC_DRY_RUN: 'true',
      GC_INTERVAL_SECONDS: '30',
      GC_STATELESS_TERMINATING_POD_ON_READY_NODE_ENABLED: 'false',
      GC_STATELESS_TERMINATING_POD_ON_NOT_READY_NODE_ENABLED: 'false',
      GC_ADDITIONAL_GRACE_DELAY_SECONDS: '7',
    }).gc;
    expect(gc).toEqual({ enabled: false, dryRun: true, scanIntervalMs: 30_000, terminatingOnReadyNode: false, terminatingOnNotReadyNode: false, additionalGraceDelayMs: 7000 });
  });

  it('names a bad value by its variable', () => {
    let problems: readonly string[] = [];
    try {
      load({ GC_DRY_RUN: 'maybe', GC_ADDITIONAL_GRACE_DELAY_SECONDS: '-1' });
    } catch (e) {
      if (e instanceof ConfigError) problems = e.problems;
    }
    expect(problems).toEqual(['GC_DRY_RUN="maybe": expected true or false', 'GC_ADDITIONAL_GRACE_DELAY_SECONDS="-1": expected an integer in 0..86400']);
  });
});
