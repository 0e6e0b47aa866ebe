// The CRDs against a real kube-apiserver 1.33: every valid fixture is accepted and every malformed one
// is rejected with the message its header promises (`# expect:`), whether the OpenAPI schema or a CEL
// rule catches it. This is the only check of the CEL rules; operator/test/crds checks the structural
// schema offline.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KubectlError, ensureCluster, kubectl } from '../support/cluster.js';

const fixturesDir = join(import.meta.dirname, '..', 'fixtures');

interface Fixture {
  file: string;
  /** one document: a create; two: the stored object, then the update */
  docs: Record<string, unknown>[];
  expect?: string;
}

function loadFixtures(kind: 'valid' | 'invalid'): Fixture[] {
  const dir = join(fixturesDir, kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const text = readFileSync(join(dir, f), 'utf8');
      const expect = /^# expect: (.+)$/m.exec(text)?.[1]?.trim();
      const docs = parseAllDocuments(text).map((d) => d.toJSON() as Record<string, unknown>);
      return { file: `${kind}/${f}`, docs, ...(expect ? { expect } : {}) };
    });
}

const yamlOf = (o: unknown) => JSON.stringify(o);

async function cleanup(doc: Record<string, unknown>): Promise<void> {
  await kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], { input: yamlOf(doc) });
}

/** Creates (or, for two-document fixtures, creates the first then updates to the second) on the server. */
// Kinds whose status is a subresource: a create drops `status`, so a fixture that is about status is
// submitted as a create of the object followed by an update of its status subresource.
const STATUS_SUBRESOURCE = new Set(['SpiderIPPool', 'SpiderSubnet']);

async function submit(fx: Fixture): Promise<void> {
  const [first, second] = fx.docs;
  if (!first) throw new Error(`${fx.file}: empty fixture`);
  const statusUpdate = !second && 'status' in first && STATUS_SUBRESOURCE.has(String(first.kind));
  if (!second && !statusUpdate) {
    await kubectl(['create', '--dry-run=server', '-f', '-'], { input: yamlOf(first) });
    return;
  }
  const { status: _dropped, ...stored } = first;
  await cleanup(first);
  await kubectl(['create', '-f', '-'], { input: yamlOf(second ? first : stored) });
  try {
    const update = statusUpdate ? ['replace', '--subresource=status'] : ['replace'];
    await kubectl([...update, '--dry-run=server', '-f', '-'], { input: yamlOf(second ?? first) });
  } finally {
    await cleanup(first);
  }
}

beforeAll(async () => {
  await ensureCluster();
}, 60 * 60_000);

describe('CRDs installed on the real apiserver', () => {
  test('all four kinds are established with Spiderpool short names', async () => {
    const out = await kubectl(['api-resources', '--api-group=spiderpool.spidernet.io', '-o', 'wide']);
    for (const [plural, short] of [
      ['spiderippools', 'sp'],
      ['spidersubnets', 'ss'],
      ['spiderendpoints', 'se'],
      ['spiderreservedips', 'sr'],
    ] as const) {
      expect(out).toMatch(new RegExp(`^${plural}\\s+${short}\\s+spiderpool.spidernet.io/v2beta1`, 'm'));
    }
  });

  test('kubectl get spiderippool shows Spiderpool columns plus FREE (and DISABLE when wide)', async () => {
    const pool = {
      apiVersion: 'spiderpool.spidernet.io/v2beta1',
      kind: 'SpiderIPPool',
      metadata: { name: 'it-columns' },
      spec: { ipVersion: 4, subnet: '198.18.0.0/24', ips: ['198.18.0.10-198.18.0.20'] },
    };
    await cleanup(pool);
    await kubectl(['create', '-f', '-'], { input: yamlOf(pool) });
    try {
      const header = (await kubectl(['get', 'sp', 'it-columns'])).split('\n')[0] ?? '';
      expect(header.split(/\s+/)).toEqual(
        expect.arrayContaining(['NAME', 'VERSION', 'SUBNET', 'ALLOCATED-IP-COUNT', 'TOTAL-IP-COUNT', 'FREE', 'DEFAULT']),
      );
      expect(header).not.toContain('DISABLE');
      const wide = (await kubectl(['get', 'sp', 'it-columns', '-o', 'wide'])).split('\n')[0] ?? '';
      expect(wide).toContain('DISABLE');
    } finally {
      await cleanup(pool);
    }
  });

  test('kubectl apply --dry-run=client accepts crds/', async () => {
    const out = await kubectl(['apply', '--dry-run=client', '-f', join(import.meta.dirname, '..', '..', 'crds')]);
    expect(out.match(/created \(dry run\)|configured \(dry run\)|unchanged \(dry run\)/g)).toHaveLength(4);
  });
});

describe('valid fixtures are accepted', () => {
  test.each(loadFixtures('valid').map((f) => [f.file, f] as const))('%s', async (_name, fx) => {
    await expect(submit(fx)).resolves.toBeUndefined();
  });
});

describe('malformed fixtures are rejected with a clear message', () => {
  test.each(loadFixtures('invalid').map((f) => [f.file, f] as const))('%s', async (_name, fx) => {
    expect(fx.expect).toBeDefined();
    const err = await submit(fx).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KubectlError);
    expect((err as KubectlError).stderr).toContain(fx.expect);
  });
});
