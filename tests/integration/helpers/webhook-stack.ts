// The admission webhook of one test run on the shared local control plane: validating and mutating
// configurations whose clientConfig.url is this process's HTTPS server on 127.0.0.1, scoped by an
// objectSelector on the run's label (pools and subnets are cluster-scoped and other tests create theirs
// beside us: the webhook never sees them), the CA and range registry in the run's namespace. The
// configurations must be removed whatever happens (failurePolicy Fail on a dead URL would refuse the
// run's own objects forever): call remove() first thing in afterAll.
import { AdmissionregistrationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { WEBHOOK_PATHS } from '../../../operator/src/webhook/index.js';

const API = { group: 'spiderpool.spidernet.io', version: 'v2beta1' };

export interface ScopedWebhookConfig {
  /** Name of both configurations (cluster-scoped: make it unique per run). */
  name: string;
  /** Webhook names must be unique DNS-ish names: `<kind>.<tag>.validate.spiderpool-ts.io`. */
  tag: string;
  port: number;
  label: { key: string; value: string };
}

/** Creates the two configurations without caBundle: the webhook writes it at start (certs.ts). */
export async function registerScopedWebhooks(kc: KubeConfig, c: ScopedWebhookConfig): Promise<void> {
  const adm = kc.makeApiClient(AdmissionregistrationV1Api);
  const common = (path: string, plural: string, ops: string[]) => ({
    clientConfig: { url: `https://127.0.0.1:${c.port}${path}` },
    rules: [{ apiGroups: [API.group], apiVersions: [API.version], resources: [plural], operations: ops, scope: 'Cluster' }],
    objectSelector: { matchLabels: { [c.label.key]: c.label.value } },
    sideEffects: 'NoneOnDryRun',
    admissionReviewVersions: ['v1'],
    failurePolicy: 'Fail',
    timeoutSeconds: 15,
  });
  await adm.createMutatingWebhookConfiguration({
    body: { metadata: { name: c.name }, webhooks: [{ name: `pools.${c.tag}.mutate.spiderpool-ts.io`, ...common(WEBHOOK_PATHS.mutatePool, 'spiderippools', ['CREATE']), reinvocationPolicy: 'Never' }] },
  });
  await adm.createValidatingWebhookConfiguration({
    body: {
      metadata: { name: c.name },
      webhooks: [
        { name: `pools.${c.tag}.validate.spiderpool-ts.io`, ...common(WEBHOOK_PATHS.validatePool, 'spiderippools', ['CREATE', 'UPDATE']) },
        { name: `subnets.${c.tag}.validate.spiderpool-ts.io`, ...common(WEBHOOK_PATHS.validateSubnet, 'spidersubnets', ['CREATE', 'UPDATE']) },
      ],
    },
  });
}

export async function removeScopedWebhooks(kc: KubeConfig, name: string): Promise<void> {
  const adm = kc.makeApiClient(AdmissionregistrationV1Api);
  await adm.deleteValidatingWebhookConfiguration({ name }).catch(() => undefined);
  await adm.deleteMutatingWebhookConfiguration({ name }).catch(() => undefined);
}
