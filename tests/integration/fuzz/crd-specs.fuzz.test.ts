// Fuzzing the CRD specs through the real kube-apiserver (OpenAPI schema + CEL rules) AND our admission
// webhook (mutating + validating, served by this process, scoped to this run's label): FUZZ_CRD_RUNS
// (default 10,000) server-side dry-run creates of SpiderIPPools, SpiderSubnets and SpiderReservedIPs,
// valid specs mutated one node at a time plus random documents.
//
// Property per request: an answer (never a timeout), either accepted or refused with a 4xx and a
// message — never a 5xx (a webhook that crashed or hung shows up as a 500 "failed calling webhook").
// Property at the end: no partial write — dry runs persist nothing, so no object of the run exists.
import { randomBytes } from 'node:crypto';
import { ApiException, CustomObjectsApi } from '@kubernetes/client-node';
import fc from 'fast-check';
import { LABEL_BLOCK_POOL } from '../../../operator/src/api/internal/ipamblock.js';
import { SPIDER_FINALIZER } from '../../../operator/src/api/v2beta1/constants.js';
import { newBlockInformer, newPoolInformer, newSubnetInformer } from '../../../operator/src/controllers/informers.js';
import { createLogger } from '../../../operator/src/framework/logger.js';
import { Manager } from '../../../operator/src/framework/manager.js';
import { type Webhook, createWebhook } from '../../../operator/src/webhook/index.js';
import { mutateAt } from '../../../operator/test/fuzz/mutate.js';
import { kubectl } from '../../support/cluster.js';
import { createTestNamespace } from '../../support/test-namespace.js';
import { freePort } from '../helpers/ipam-stack.js';
import { waitFor } from '../helpers/wait.js';
import { registerScopedWebhooks, removeScopedWebhooks } from '../helpers/webhook-stack.js';

const RUNS = Number(process.env.FUZZ_CRD_RUNS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261121);
const CONCURRENCY = 16;
const id = randomBytes(3).toString('hex');
const LABEL = 'spiderpool-ts.io/crd-fuzz';
const configName = `spiderpool-ts-crd-fuzz-${id}`;
const api = { group: 'spiderpool.spidernet.io', version: 'v2beta1' };

type Kind = 'SpiderIPPool' | 'SpiderSubnet' | 'SpiderReservedIP';
const PLURAL: Record<Kind, string> = { SpiderIPPool: 'spiderippools', SpiderSubnet: 'spidersubnets', SpiderReservedIP: 'spiderreservedips' };
const VALID: Record<Kind, Record<string, unknown>> = {
  SpiderIPPool: {
    ipVersion: 4,
    subnet: '198.18.60.0/24',
    ips: ['198.18.60.10-198.18.60.50', '198.18.60.60'],
    excludeIPs: ['198.18.60.20'],
    gateway: '198.18.60.1',
    routes: [{ dst: '198.18.61.0/24', gw: '198.18.60.1' }],
    vlan: 0,
    default: false,
    podAffinity: { matchLabels: { app: 'web' } },
    namespaceAffinity: { matchExpressions: [{ key: 'team', operator: 'In', values: ['a'] }] },
    multusName: ['kube-system/macvlan'],
  },
  SpiderSubnet: { ipVersion: 6, subnet: '2001:db8:60::/64', ips: ['2001:db8:60::10-2001:db8:60::ff'], excludeIPs: ['2001:db8:60::20'], gateway: '2001:db8:60::1', routes: [], vlan: 100 },
  SpiderReservedIP: { ipVersion: 4, ips: ['198.18.60.5', '198.18.60.6-198.18.60.8'] },
};

const leaf = fc.oneof(
  fc.jsonValue({ maxDepth: 1 }),
  fc.constantFrom('', '198.18.60.0/24', '198.18.60.0/33', '198.18.60.1', '198.18.59.1', '198.18.60.9-198.18.60.1', '2001:db8:60::1', '::/0', '0.0.0.0/0', 4, 6, 5, -1, 4095, 4096, true, null, 'a'.repeat(300)),
);
const doc = fc.constantFrom<Kind>('SpiderIPPool', 'SpiderSubnet', 'SpiderReservedIP').chain((kind) =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .record({ path: fc.array(fc.nat(), { maxLength: 3 }), replacement: leaf, remove: fc.boolean(), extra: fc.option(fc.tuple(fc.string({ maxLength: 8 }), leaf)) })
        .map(({ path, replacement, remove, extra }) => {
          let spec = mutateAt(VALID[kind], path, replacement, remove);
          if (extra && spec !== null && typeof spec === 'object' && !Array.isArray(spec)) spec = { ...spec, [extra[0]]: extra[1] };
          return { kind, spec };
        }),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((spec) => ({ kind, spec })) },
  ),
);

let kc: Awaited<ReturnType<typeof createTestNamespace>>;
let webhook: Webhook;
let mgr: Manager;
let custom: CustomObjectsApi;

beforeAll(async () => {
  kc = await createTestNamespace('crdfuzz');
  const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'error', defaultMeta: { test: 'crd-fuzz' } });
  custom = kc.kc.makeApiClient(CustomObjectsApi);
  const scope = { labelSelector: `${LABEL}=${id}` };
  const pools = newPoolInformer(kc.kc, log, scope);
  const subnets = newSubnetInformer(kc.kc, log, scope);
  const blocks = newBlockInformer(kc.kc, log, { labelSelector: `${LABEL_BLOCK_POOL}=none-${id}` });
  webhook = createWebhook({ kc: kc.kc, namespace: kc.ns, pools, subnets, blocks, san: { dnsNames: [], ipAddresses: ['127.0.0.1'] }, configurations: { validating: [configName], mutating: [configName] }, log });
  mgr = new Manager({ log, caches: [pools, subnets, blocks], controllers: [] });
  await mgr.start();
  const port = await freePort();
  await registerScopedWebhooks(kc.kc, { name: configName, tag: `fz${id}`, port, label: { key: LABEL, value: id } });
  await webhook.start('127.0.0.1', port);
  // In effect once a dry-run pool comes back with the finalizer our mutating webhook adds.
  await waitFor(
    'the webhook configurations in effect',
    async () => {
      const r = (await create('SpiderIPPool', `probe-${id}`, VALID.SpiderIPPool).catch(() => undefined)) as { metadata?: { finalizers?: string[] } } | undefined;
      return { ok: r?.metadata?.finalizers?.includes(SPIDER_FINALIZER) ?? false, detail: JSON.stringify(r?.metadata ?? {}) };
    },
    60_000,
    500,
  );
}, 120_000);

afterAll(async () => {
  await removeScopedWebhooks(kc.kc, configName);
  await webhook?.stop();
  await mgr?.stop();
  for (const plural of Object.values(PLURAL)) await kubectl(['delete', plural, '-l', `${LABEL}=${id}`, '--ignore-not-found', '--wait=false']).catch(() => undefined);
  await kubectl(['delete', 'namespace', kc.ns, '--wait=false', '--ignore-not-found']).catch(() => undefined);
  await kubectl(['delete', 'node', kc.node, '--ignore-not-found']).catch(() => undefined);
}, 120_000);

function create(kind: Kind, name: string, spec: unknown): Promise<object> {
  const body = { apiVersion: `${api.group}/${api.version}`, kind, metadata: { name, labels: { [LABEL]: id } }, spec };
  // All three kinds are cluster-scoped, as in Spiderpool.
  return custom.createClusterCustomObject({ ...api, plural: PLURAL[kind], body, dryRun: 'All' });
}

/** The Status message of a refused request; the raw body when it is not a Status. */
function statusMessage(body: unknown): string {
  try {
    return String((JSON.parse(String(body)) as { message?: string }).message ?? '');
  } catch {
    return String(body ?? '');
  }
}

test(`fuzz: ${RUNS} CRD specs through the apiserver's schema, CEL and our webhook get a verdict, never a 5xx`, async () => {
  const cases = fc.sample(doc, { numRuns: RUNS, seed: SEED });
  const tally = new Map<string, number>();
  const failures: string[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < cases.length; i = next++) {
        const { kind, spec } = cases[i]!;
        let tag: string;
        try {
          await create(kind, `fz-${id}-${i}`, spec);
          tag = `${kind} accepted`;
        } catch (e) {
          const code = e instanceof ApiException ? e.code : 0;
          const message = e instanceof ApiException ? statusMessage(e.body) : String(e);
          tag = `${kind} ${code}`;
          if (!(code >= 400 && code < 500) || message.length === 0) failures.push(`${kind} ${JSON.stringify(spec).slice(0, 300)} → ${code} ${message.slice(0, 300)}`);
        }
        tally.set(tag, (tally.get(tag) ?? 0) + 1);
        if (i % 2000 === 1999) process.stderr.write(`[crd-fuzz] ${i + 1}/${RUNS} in ${Math.round(performance.now() - started)} ms\n`);
      }
    }),
  );
  process.stderr.write(`[crd-fuzz] ${RUNS} requests in ${Math.round(performance.now() - started)} ms: ${JSON.stringify(Object.fromEntries([...tally].sort()))}\n`);
  expect(failures.slice(0, 5)).toEqual([]);
  // The fuzzer reaches both verdicts for every kind: it walks the accepting and the refusing paths.
  for (const kind of Object.keys(PLURAL)) {
    expect(tally.get(`${kind} accepted`) ?? 0).toBeGreaterThan(0);
    expect([...tally].filter(([t]) => t.startsWith(kind) && !t.endsWith('accepted')).reduce((n, [, c]) => n + c, 0)).toBeGreaterThan(0);
  }
  // Dry runs persist nothing.
  for (const plural of Object.values(PLURAL)) {
    const left = JSON.parse(await kubectl(['get', plural, '-l', `${LABEL}=${id}`, '-o', 'json'])) as { items: unknown[] };
    expect(left.items).toHaveLength(0);
  }
});
