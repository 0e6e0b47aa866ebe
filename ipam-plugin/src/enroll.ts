// `spiderpool-ts-enroll`: the plugin installer's step that gives this node its client certificate
// (ADR 0006). Run in the plugin DaemonSet pod (it needs the pod's projected ServiceAccount token);
// writes node.key / node.crt / ca.crt into --out-dir (the host directory the CNI config's
// tls_*_file keys point at). Idempotent: keeps a certificate with more than --renew-before-days left.
//
//   node --import ./hack/register-ts.mjs ipam-plugin/src/enroll.ts \
//     --url https://spiderpool-ts-operator.kube-system.svc:9444 --node-name "$NODE_NAME" \
//     --token-file /var/run/secrets/spiderpool-ts/token --ca-file /etc/spiderpool-ts/ca/ca.crt \
//     --out-dir /host/etc/cni/net.d/spiderpool-ts [--every 43200]
//
// Prints one JSON line per attempt on stdout ({"action":"kept"|"enrolled",...}); exits 1 on a
// refusal (the reason is printed) or after --retries failed attempts of a retryable error.
import { parseArgs } from 'node:util';
import { ensureNodeCertificate, type EnrollClientOptions } from '../../operator/src/security/enroll-client.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.SPIDERPOOL_TS_ENROLL_URL },
    'node-name': { type: 'string', default: process.env.NODE_NAME },
    'token-file': { type: 'string', default: '/var/run/secrets/spiderpool-ts/token' },
    'ca-file': { type: 'string', default: '/etc/spiderpool-ts/ca/ca.crt' },
    'out-dir': { type: 'string', default: '/host/etc/cni/net.d/spiderpool-ts' },
    'server-name': { type: 'string' },
    'renew-before-days': { type: 'string', default: '30' },
    retries: { type: 'string', default: '5' },
    every: { type: 'string', default: '0' },
    force: { type: 'boolean', default: false },
  },
  strict: true,
});

function fail(message: string): never {
  process.stderr.write(`${JSON.stringify({ level: 'error', message })}\n`);
  process.exit(1);
}

if (!values.url) fail('--url (or SPIDERPOOL_TS_ENROLL_URL) is required');
if (!values['node-name']) fail('--node-name (or NODE_NAME, from the downward API spec.nodeName) is required');
const opts: EnrollClientOptions = {
  url: values.url,
  nodeName: values['node-name'],
  tokenFile: values['token-file']!,
  caFile: values['ca-file']!,
  outDir: values['out-dir']!,
  renewBeforeDays: Number(values['renew-before-days']),
  force: values.force ?? false,
  ...(values['server-name'] ? { serverName: values['server-name'] } : {}),
};
const retries = Number(values.retries);
const everyMs = Number(values.every) * 1000;
if (!Number.isFinite(retries) || !Number.isFinite(everyMs) || !Number.isFinite(opts.renewBeforeDays)) fail('--retries, --every and --renew-before-days are numbers');

async function once(): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const r = await ensureNodeCertificate(opts);
    if (r.ok) {
      process.stdout.write(`${JSON.stringify({ level: 'info', ...r.value })}\n`);
      return true;
    }
    process.stderr.write(`${JSON.stringify({ level: r.error.retryable ? 'warn' : 'error', attempt, ...r.error })}\n`);
    if (!r.error.retryable || attempt > retries) return false;
    await new Promise((res) => setTimeout(res, Math.min(30_000, 1000 * 2 ** (attempt - 1))));
  }
}

void (async () => {
  const ok = await once();
  if (everyMs <= 0) process.exit(ok ? 0 : 1);
  // Long-running mode (a DaemonSet container): re-check periodically; failures are retried next round.
  setInterval(() => void once(), everyMs);
})();
