// The demo's last act: the shipped samples (config/samples: a SpiderSubnet, a SpiderIPPool and an
// annotated Deployment), exactly as `kubectl apply -k config/samples` builds them, moved into the demo's
// world — their 172.30.0.0/16 addresses into 198.19.0.0/16 (the simulated nodes' isolated network
// namespaces use the benchmarking range) and the Deployment into the demo namespace — plus a second copy
// of the sample Deployment annotated with the sample subnet instead of the pool: the operator carves it
// an auto pool of its own before its pods need it.
import { parseAllDocuments } from 'yaml';
import { join } from 'node:path';
import { LABEL_BLOCK_POOL } from '../operator/src/api/internal/ipamblock.js';
import { ANNO_POD_IPPOOL, ANNO_SUBNET, LABEL_IPPOOL_OWNER_SPIDER_SUBNET } from '../operator/src/api/v2beta1/constants.js';
import { poolLabelValue } from '../operator/src/service/block-layout.js';
import { kubectl, repoRoot } from '../tests/support/cluster.js';

export const SAMPLE_SUBNET = 'sample-subnet-v4';
export const SAMPLE_POOL = 'sample-ippool-v4';
export const SAMPLE_APP = 'sample-app';
export const SAMPLE_AUTO_APP = 'sample-auto';

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: Record<string, unknown> & {
    selector?: { matchLabels?: Record<string, string> };
    template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
  };
}

/**
 * The samples as the demo applies them (see the header). `placement` (nodeSelector, tolerations) keeps
 * the pods on the demo's simulated nodes: a shared cluster may have other nodes nobody serves.
 */
export async function demoSamples(namespace: string, placement: Record<string, unknown>): Promise<Obj[]> {
  const built = await kubectl(['kustomize', join(repoRoot, 'config/samples')]);
  const objs = parseAllDocuments(built).map((d) => JSON.parse(JSON.stringify(d.toJSON()).replaceAll('172.30.', '198.19.')) as Obj);
  for (const o of objs) {
    if (o.kind !== 'Deployment') continue;
    o.metadata.namespace = namespace;
    o.spec.template!.spec = { ...o.spec.template!.spec, ...placement };
  }
  const app = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === SAMPLE_APP);
  if (!app) throw new Error(`config/samples has no Deployment ${SAMPLE_APP}`);
  const auto = JSON.parse(JSON.stringify(app)) as Obj;
  auto.metadata.name = SAMPLE_AUTO_APP;
  auto.metadata.labels = { app: SAMPLE_AUTO_APP };
  auto.spec.selector = { matchLabels: { app: SAMPLE_AUTO_APP } };
  const tmpl = auto.spec.template!.metadata!;
  tmpl.labels = { app: SAMPLE_AUTO_APP };
  const { [ANNO_POD_IPPOOL]: _pool, ...rest } = tmpl.annotations ?? {};
  tmpl.annotations = { ...rest, [ANNO_SUBNET]: JSON.stringify({ ipv4: [SAMPLE_SUBNET] }) };
  return [...objs, auto];
}

/** Sample objects the demo created, whatever state a run left them in (auto pools included). */
export async function removeDemoSamples(): Promise<void> {
  const autoPools = (await kubectl(['get', 'spiderippool', '-l', `${LABEL_IPPOOL_OWNER_SPIDER_SUBNET}=${SAMPLE_SUBNET}`, '-o', 'jsonpath={.items[*].metadata.name}'])).trim().split(/\s+/).filter(Boolean);
  for (const pool of [SAMPLE_POOL, ...autoPools]) {
    await kubectl(['patch', 'spiderippool', pool, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => undefined);
    await kubectl(['delete', 'spiderippool', pool, '--ignore-not-found', '--wait=false']);
    await kubectl(['delete', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `${LABEL_BLOCK_POOL}=${poolLabelValue(pool)}`, '--ignore-not-found']);
  }
  await kubectl(['delete', 'spidersubnet', SAMPLE_SUBNET, '--ignore-not-found', '--wait=false']);
}
