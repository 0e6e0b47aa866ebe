// Every fixture in tests/fixtures behaves as labelled as far as the structural schema can tell: valid
// ones pass it, `rejected-by: schema` ones fail it with the expected message, `rejected-by: cel` ones
// pass it (only CEL may reject them). CEL itself is checked by the apiserver: tests/integration/crds.test.ts.

import { checkFixture, loadCRDs, loadFixtures, schemaOf, validateSchema } from './crd-check.js';

const crds = loadCRDs();
const fixtures = loadFixtures();
const schemaOfKind = (kind: string) => schemaOf(crds.find((c) => c.crd.spec.names.kind === kind)!.crd);

describe('fixture set', () => {
  it('has valid v4 and v6 examples of pools, subnets and reserved IPs, and an endpoint', () => {
    const names = fixtures.filter((f) => f.valid).map((f) => f.file);
    for (const n of ['spiderippool-v4', 'spiderippool-v6', 'spidersubnet-v4', 'spidersubnet-v6', 'spiderreservedip-v4', 'spiderreservedip-v6', 'spiderendpoint']) {
      expect(names).toContain(`tests/fixtures/valid/${n}.yaml`);
    }
  });

  it('has malformed examples for each layer, each with a reason', () => {
    const invalid = fixtures.filter((f) => !f.valid);
    expect(invalid.filter((f) => f.rejectedBy === 'schema').length).toBeGreaterThanOrEqual(10);
    expect(invalid.filter((f) => f.rejectedBy === 'cel').length).toBeGreaterThanOrEqual(15);
    for (const f of invalid) expect({ f: f.file, why: Boolean(f.why), expect: Boolean(f.expect) }).toEqual({ f: f.file, why: true, expect: true });
  });
});

describe.each(fixtures.map((f) => [f.file, f] as const))('%s', (_file, fx) => {
  const title = fx.valid ? 'passes the structural schema' : fx.rejectedBy === 'cel' ? 'passes the structural schema (only CEL rejects it)' : `is rejected by the schema: ${fx.expect ?? ''}`;
  it(title, () => {
    expect(checkFixture(fx, crds).problems).toEqual([]);
  });
});

describe('structural validator', () => {
  const schema = schemaOfKind('SpiderIPPool');
  it('reports type, enum, pattern, bounds, required and unknown fields like the apiserver', () => {
    const errs = validateSchema(schema, {
      apiVersion: 'spiderpool.spidernet.io/v2beta1',
      kind: 'SpiderIPPool',
      metadata: { name: 'x', anything: 'goes' },
      spec: { ipVersion: 5, ips: ['a b', ...Array<string>(4096).fill('10.0.0.1')], vlan: -1, gateway: 7, bogus: true, routes: [{ dst: '0.0.0.0/0' }] },
      status: { totalIPCount: 1.5 },
    });
    expect(errs).toEqual(
      expect.arrayContaining([
        'spec.ipVersion: Unsupported value: 5: supported values: "4", "6"',
        'spec.subnet: Required value',
        expect.stringContaining("spec.ips[0]: Invalid value: \"a b\": spec.ips[0] in body should match '"),
        'spec.ips: Too many: 4097: must have at most 4096 items',
        'spec.vlan: Invalid value: -1: spec.vlan in body should be greater than or equal to 0',
        'spec.gateway: Invalid value: "integer": spec.gateway in body must be of type string: "integer"',
        'unknown field "spec.bogus"',
        'spec.routes[0].gw: Required value',
        'status.totalIPCount: Invalid value: "number": status.totalIPCount in body must be of type integer: "number"',
      ]),
    );
    expect(errs.some((e) => e.includes('metadata'))).toBe(false);
  });

  it('rejects over-long strings', () => {
    const errs = validateSchema(schema, { spec: { subnet: `${'1'.repeat(41)}/24` } });
    expect(errs).toContain('spec.subnet: Too long: may not be more than 43 bytes');
  });
});
