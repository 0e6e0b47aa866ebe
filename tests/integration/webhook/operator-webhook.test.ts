// The webhook as the operator serves it: operator/src/main.ts started as a process with WEBHOOK_PORT
// set (config.ts → operator.ts wiring), its CA created in the test namespace, the caBundle written into
// this run's Validating/MutatingWebhookConfiguration (created without one, objectSelector on the run's
// label, deleted in afterAll), a new pool mutated (finalizer) and an overlapping one refused, and the
// leader's pool-finalizer controller letting an empty pool go. GC and auto pools off: this operator
// must not act on other tests' pods.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { AdmissionregistrationV1Api, ApiException, CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import { SPIDER_FINALIZER } from '../../../operator/src/api/v2beta1/constants.js';
import { WEBHOOK_PATHS } from '../../../operator/src/webhook/index.js';
import { kubectl, kubeconfigPath } from '../../support/cluster.js';
import { type TestNamespace, createTestNamespace } from '../../support/test-namespace.js';
import { freePort, operatorEnv, writePki } from '../helpers/ipam-stack.js';
import { OperatorProcess } from '../helpers/operator-process.js';
import { waitFor } from '../helpers/wait.js';

jest.setTimeout(180_000);

const id = randomBytes(3).toString('hex');
const LABEL = 'spiderpool-ts.io/operator-webhook-test';
const configName = `spiderpool-ts-webhook-op-${id}`;
const poolA = `wh-op-a-${id}`;
const poolB = `wh-op-b-${id}`;
const api = { group: 'spiderpool.spidernet.io', version: 'v2beta1', plural: 'spiderippools' };

let t: TestNamespace;
let dir: string;
let operator: OperatorProcess | undefined;

const pool = (name: string, ips: string[]) => ({
  apiVersion: 'spiderpool.spidernet.io/v2beta1',
  kind: 'SpiderIPPool',
  metadata: { name, labels: { [LABEL]: id } },
  spec: { subnet: '10.213.4.0/24', ips },
});

async function deleteConfigurations(): Promise<void> {
  const adm = t.kc.makeApiClient(AdmissionregistrationV1Api);
  await adm.deleteValidatingWebhookConfiguration({ name: configName }).catch(() => undefined);
  await adm.deleteMutatingWebhookConfiguration({ name: configName }).catch(() => undefined);
}

beforeAll(async () => {
  t = await createTestNamespace('whop');
  dir = mkdtempSync(join(tmpdir(), 'spiderpool-ts-whop-'));
  await writePki(join(dir, 'pki'), { caName: `spiderpool-ts webhook-op CA ${id}`, dnsName: 'spiderpool-ts-operator.whop', nodes: [] });
  const [grpcPort, healthPort, webhookPort] = [await freePort(), await freePort(), await freePort()];
  const adm = t.kc.makeApiClient(AdmissionregistrationV1Api);
  const common = (path: string, ops: string[]) => ({
    clientConfig: { url: `https://127.0.0.1:${webhookPort}${path}` },
    rules: [{ apiGroups: [api.group], apiVersions: [api.version], resources: [api.plural], operations: ops, scope: 'Cluster' }],
    objectSelector: { matchLabels: { [LABEL]: id } },
    admissionReviewVersions: ['v1'],
    failurePolicy: 'Fail',
    timeoutSeconds: 15,
  });
  await adm.createMutatingWebhookConfiguration({ body: { metadata: { name: configName }, webhooks: [{ name: `pools.${id}.op-mutate.spiderpool-ts.io`, ...common(WEBHOOK_PATHS.mutatePool, ['CREATE']), sideEffects: 'None' }] } });
  await adm.createValidatingWebhookConfiguration({
    body: { metadata: { name: configName }, webhooks: [{ name: `pools.${id}.op-validate.spiderpool-ts.io`, ...common(WEBHOOK_PATHS.validatePool, ['CREATE', 'UPDATE']), sideEffects: 'NoneOnDryRun' }] },
  });
  operator = new OperatorProcess(
    {
      ...operatorEnv({ kubeconfig: kubeconfigPath, podName: `whop-${id}`, namespace: t.ns, certDir: join(dir, 'pki'), grpcPort, healthPort }),
      WEBHOOK_PORT: String(webhookPort),
      WEBHOOK_HOST: '127.0.0.1',
      WEBHOOK_DNS_NAMES: '',
      WEBHOOK_IP_ADDRESSES: '127.0.0.1',
      WEBHOOK_VALIDATING_CONFIGURATION: configName,
      WEBHOOK_MUTATING_CONFIGURATION: configName,
      GC_IP_ENABLED: 'false',
      ENABLE_AUTO_POOL: 'false',
    },
    join(dir, 'operator.log'),
  );
  await operator.start();
}, 10 * 60_000);

afterAll(async () => {
  await deleteConfigurations();
  await operator?.stop();
  for (const p of [poolA, poolB]) await kubectl(['patch', 'spiderippool', p, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => undefined);
  await kubectl(['delete', 'spiderippool', '-l', `${LABEL}=${id}`, '--ignore-not-found', '--wait=false']).catch(() => undefined);
  await kubectl(['delete', 'namespace', t.ns, '--wait=false', '--ignore-not-found']).catch(() => undefined);
  await kubectl(['delete', 'node', t.node, '--ignore-not-found']).catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

test('main.ts with WEBHOOK_PORT: caBundle written, pools mutated and checked, an empty pool deleted past the finalizer', async () => {
  const adm = t.kc.makeApiClient(AdmissionregistrationV1Api);
  // /readyz answers before the webhook has its certificate (it starts after the caches and gRPC).
  await waitFor(
    'caBundle (the certificate of the CA Secret) in both configurations',
    async () => {
      const caPem = (await kubectl(['get', 'secret', 'spiderpool-ts-ca', '-n', t.ns, '--ignore-not-found', '-o', 'jsonpath={.data.ca\\.crt}'])).trim();
      const v = (await adm.readValidatingWebhookConfiguration({ name: configName })).webhooks?.[0]?.clientConfig.caBundle;
      const m = (await adm.readMutatingWebhookConfiguration({ name: configName })).webhooks?.[0]?.clientConfig.caBundle;
      return { ok: caPem !== '' && v === caPem && m === caPem, detail: `validating=${v?.slice(0, 20)} mutating=${m?.slice(0, 20)}` };
    },
    30_000,
    300,
  );

  const custom = t.kc.makeApiClient(CustomObjectsApi);
  // The apiserver's webhook configuration cache may lag the caBundle write: retry the first create.
  await waitFor(
    `${poolA} created through the webhook`,
    async () => {
      await custom.createClusterCustomObject({ ...api, body: pool(poolA, ['10.213.4.10-10.213.4.20']) }).catch((e: unknown) => {
        if (!(e instanceof ApiException && e.code === 409)) throw e;
      });
      return { ok: true, detail: '' };
    },
    30_000,
    500,
  );
  const a = (await custom.getClusterCustomObject({ ...api, name: poolA })) as KubernetesObject & { spec: { ipVersion?: number } };
  expect(a.metadata?.finalizers).toContain(SPIDER_FINALIZER);
  expect(a.spec.ipVersion).toBe(4);

  const refused = await custom.createClusterCustomObject({ ...api, body: pool(poolB, ['10.213.4.20-10.213.4.30']) }).then(
    () => 'accepted',
    (e: unknown) => String((e as ApiException<unknown>).body ?? e),
  );
  expect(refused).toContain(`spec.ips[0]: 10.213.4.20 already belong(s) to SpiderIPPool ${poolA}`);

  // No allocations in poolA: the operator's (leader's) finalizer controller lets it go.
  await kubectl(['delete', 'spiderippool', poolA, '--wait=false']);
  await waitFor(
    `${poolA} gone`,
    async () => {
      const out = await kubectl(['get', 'spiderippool', poolA, '--ignore-not-found', '-o', 'name']);
      return { ok: out.trim() === '', detail: out };
    },
    60_000,
    500,
  );
});
