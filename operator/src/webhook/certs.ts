// The webhook's TLS: a serving certificate issued at start by the operator's CA (kept in the Secret
// spiderpool-ts-ca, security/ca.ts; create-or-get, so every replica uses the same CA), and the CA
// certificate written into the caBundle of our admission configurations, so the apiserver trusts
// every replica's certificate without cert-manager. Certificates live in memory only; a restart
// issues a fresh one.
import { AdmissionregistrationV1Api, CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { type CertificateAuthority, ensureCA, kubeSecretStore } from '../security/ca.js';
import { type IssuedKeyPair, issueServerCertificate } from '../security/issue.js';

export interface WebhookTLS {
  ca: CertificateAuthority;
  serving: IssuedKeyPair;
}

export async function webhookTLS(kc: KubeConfig, namespace: string, san: { dnsNames: readonly string[]; ipAddresses: readonly string[] }): Promise<WebhookTLS> {
  const ensured = await ensureCA(kubeSecretStore(kc.makeApiClient(CoreV1Api)), { namespace });
  if (!ensured.ok) throw new Error(`webhook certificate: ${ensured.error.message}`);
  const serving = await issueServerCertificate(ensured.value.ca, san);
  return { ca: ensured.value.ca, serving };
}

/**
 * Sets clientConfig.caBundle of every webhook in the named Validating/MutatingWebhookConfigurations
 * (a JSON patch per webhook index). A configuration that does not exist is reported, not fatal:
 * admission then simply does not reach us.
 */
export async function injectCABundle(kc: KubeConfig, caPem: string, names: { validating: readonly string[]; mutating: readonly string[] }): Promise<string[]> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const bundle = Buffer.from(caPem).toString('base64');
  const problems: string[] = [];
  const opts = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
  for (const name of names.validating) {
    try {
      const cfg = await api.readValidatingWebhookConfiguration({ name });
      const body = (cfg.webhooks ?? []).map((_, i) => ({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: bundle }));
      if (body.length > 0) await api.patchValidatingWebhookConfiguration({ name, body }, opts);
    } catch (e) {
      problems.push(`ValidatingWebhookConfiguration ${name}: ${(e as Error).message}`);
    }
  }
  for (const name of names.mutating) {
    try {
      const cfg = await api.readMutatingWebhookConfiguration({ name });
      const body = (cfg.webhooks ?? []).map((_, i) => ({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: bundle }));
      if (body.length > 0) await api.patchMutatingWebhookConfiguration({ name, body }, opts);
    } catch (e) {
      problems.push(`MutatingWebhookConfiguration ${name}: ${(e as Error).message}`);
    }
  }
  return problems;
}
