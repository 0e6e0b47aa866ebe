// `spiderpool-ts-install`: what the plugin installer DaemonSet (config/installer) runs on every node.
//   1. copies the shim (SHIM_SOURCE) into the host's CNI bin directory (CNI_BIN_DIR),
//   2. enrolls the node for its client certificate (ADR 0006: pod-bound token, audience
//      spiderpool-ts, the CA bundle as trust anchor) into CERT_OUT_DIR,
//   3. renders the CNI network (CNI_CONF_TEMPLATE) for this node into CNI_NET_DIR/CNI_CONF_NAME —
//      last, so a runtime never sees a network whose binary or certificate is missing;
// then (--every <s>) keeps running and re-checks the certificate (renewal 30 days before expiry).
// The operator is reached at its Service's ClusterIP (the kubelet's <SVC>_SERVICE_HOST/_PORT_<NAME>
// variables), never by DNS: cluster DNS may not run before this node has an IPAM.
// One JSON line per step on stdout; exit 1 with the reason on a step that cannot succeed.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ensureNodeCertificate, type EnrollClientOptions } from '../../operator/src/security/enroll-client.js';
import { enrollUrl, installFile, operatorEndpoint, renderCniConfig } from './install-steps.js';

const { values } = parseArgs({
  options: {
    every: { type: 'string', default: '0' },
    retries: { type: 'string', default: '8' },
  },
  strict: true,
});

const env = process.env;
const setting = (name: string, fallback: string) => env[name]?.trim() || fallback;
const out = (fields: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ level: 'info', ...fields })}\n`);
function fail(step: string, message: string): never {
  process.stderr.write(`${JSON.stringify({ level: 'error', step, message })}\n`);
  process.exit(1);
}

const nodeName = env.NODE_NAME?.trim() || fail('config', 'NODE_NAME is required (downward API: spec.nodeName)');
const service = setting('OPERATOR_SERVICE_NAME', 'spiderpool-ts-operator');
const enrollAt = enrollUrl(env, service);
if (!enrollAt.ok) fail('config', enrollAt.error);
const certDir = setting('CERT_DIR', '/etc/cni/net.d/spiderpool-ts');
const everyMs = Number(values.every) * 1000;
const retries = Number(values.retries);
if (!Number.isFinite(everyMs) || !Number.isFinite(retries)) fail('config', '--every and --retries are numbers');

const enrollOpts: EnrollClientOptions = {
  url: enrollAt.value,
  nodeName,
  tokenFile: setting('ENROLL_TOKEN_FILE', '/var/run/secrets/spiderpool-ts/token'),
  caFile: setting('ENROLL_CA_FILE', '/etc/spiderpool-ts/ca/ca.crt'),
  // The container sees the host's CERT_DIR under /host.
  outDir: setting('CERT_OUT_DIR', `/host${certDir}`),
  ...(env.TLS_SERVER_NAME?.trim() ? { serverName: env.TLS_SERVER_NAME.trim() } : {}),
};

async function enroll(): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const r = await ensureNodeCertificate(enrollOpts);
    if (r.ok) {
      out({ step: 'enroll', ...r.value });
      return true;
    }
    process.stderr.write(`${JSON.stringify({ level: r.error.retryable ? 'warn' : 'error', step: 'enroll', attempt, ...r.error })}\n`);
    if (!r.error.retryable || attempt > retries) return false;
    await new Promise((res) => setTimeout(res, Math.min(30_000, 1000 * 2 ** (attempt - 1))));
  }
}

// 1. the shim
const shimSource = setting('SHIM_SOURCE', '/opt/spiderpool-ts/bin/spiderpool-ts-ipam');
const shim = await readFile(shimSource).catch((e: Error) => fail('copy', `SHIM_SOURCE ${shimSource}: ${e.message}`));
const binDir = setting('CNI_BIN_DIR', '/host/opt/cni/bin');
const copied = await installFile(binDir, setting('SHIM_NAME', 'spiderpool-ts-ipam'), shim, 0o755);
if (!copied.ok) fail('copy', copied.error);
out({ step: 'copy', file: `${binDir}/${setting('SHIM_NAME', 'spiderpool-ts-ipam')}`, result: copied.value });

// 2. the node certificate
if (!(await enroll())) fail('enroll', 'no certificate for this node (see the lines above)');

// 3. the CNI network ("" = none: the ipam section lives in a NetworkAttachmentDefinition)
const confName = env.CNI_CONF_NAME?.trim() ?? '90-spiderpool-ts-macvlan.conflist';
if (confName) {
  const templateFile = setting('CNI_CONF_TEMPLATE', '/etc/spiderpool-ts/cni/conflist.template');
  const template = await readFile(templateFile, 'utf8').catch((e: Error) => fail('config', `CNI_CONF_TEMPLATE ${templateFile}: ${e.message}`));
  const endpoint = operatorEndpoint(env, service);
  if (!endpoint.ok) fail('config', endpoint.error);
  const rendered = renderCniConfig(template, { NODE_NAME: nodeName, OPERATOR_ENDPOINT: endpoint.value, TLS_SERVER_NAME: setting('TLS_SERVER_NAME', ''), CERT_DIR: certDir });
  if (!rendered.ok) fail('config', rendered.error);
  const netDir = setting('CNI_NET_DIR', '/host/etc/cni/net.d');
  const written = await installFile(netDir, confName, rendered.value, 0o644);
  if (!written.ok) fail('config', written.error);
  out({ step: 'config', file: `${netDir}/${confName}`, operatorEndpoint: endpoint.value, result: written.value });
}

if (everyMs > 0) {
  out({ step: 'renew', everySeconds: everyMs / 1000 });
  // Keeps the pod Running (a DaemonSet container must not exit); failures are retried next round.
  setInterval(() => void enroll(), everyMs);
  process.on('SIGTERM', () => process.exit(0));
}
