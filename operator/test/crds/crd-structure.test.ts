// Structural checks of crds/*.yaml against Spiderpool's CRDs (spidernet-io/spiderpool
// charts/spiderpool/crds/spiderpool.spidernet.io_*.yaml): names, scope, printer columns, status
// subresource, and the CEL rules we rely on.

import { collectRules, lintCRD, loadCRDs, schemaOf, type LoadedCRD, type PrinterColumn } from './crd-check.js';
import { GROUP, NAMESPACED, PLURALS, SHORT_NAMES, VERSION, type SpiderKind } from '../../src/api/v2beta1/types.js';

const crds = loadCRDs();
const byKind = (kind: SpiderKind): LoadedCRD => {
  const c = crds.find((x) => x.crd.spec.names.kind === kind);
  if (!c) throw new Error(`no CRD for ${kind}`);
  return c;
};
const KINDS: SpiderKind[] = ['SpiderIPPool', 'SpiderSubnet', 'SpiderEndpoint', 'SpiderReservedIP'];

const col = (name: string, type: string, jsonPath: string, description: string, priority?: number): PrinterColumn =>
  priority === undefined ? { name, type, description, jsonPath } : { name, type, description, jsonPath, priority };

const EXPECTED_COLUMNS: Record<SpiderKind, PrinterColumn[]> = {
  SpiderIPPool: [
    col('VERSION', 'string', '.spec.ipVersion', 'ipVersion'),
    col('SUBNET', 'string', '.spec.subnet', 'subnet'),
    col('ALLOCATED-IP-COUNT', 'integer', '.status.allocatedIPCount', 'allocatedIPCount'),
    col('TOTAL-IP-COUNT', 'integer', '.status.totalIPCount', 'totalIPCount'),
    col('FREE', 'integer', '.status.freeIPCount', 'freeIPCount, addresses still allocatable (total - allocated)'),
    col('DEFAULT', 'boolean', '.spec.default', 'default'),
    col('DISABLE', 'boolean', '.spec.disable', 'disable', 10),
    col('NodeName', 'string', '.spec.nodeName', 'nodeName', 10),
    col('MultusName', 'string', '.spec.multusName', 'multusName', 10),
    col('APP-NAMESPACE', 'string', ".spec.podAffinity.matchLabels['ipam\\.spidernet\\.io/app\\-namespace']", 'AppNamespace', 10),
  ],
  SpiderSubnet: [
    col('VERSION', 'string', '.spec.ipVersion', 'ipVersion'),
    col('SUBNET', 'string', '.spec.subnet', 'subnet'),
    col('ALLOCATED-IP-COUNT', 'integer', '.status.allocatedIPCount', 'allocatedIPCount'),
    col('TOTAL-IP-COUNT', 'integer', '.status.totalIPCount', 'totalIPCount'),
    col('FREE', 'integer', '.status.freeIPCount', 'freeIPCount, addresses not yet handed to any pool (total - allocated)'),
  ],
  SpiderEndpoint: [
    col('INTERFACE', 'string', '.status.current.ips[0].interface', 'interface'),
    col('IPV4POOL', 'string', '.status.current.ips[0].ipv4Pool', 'ipv4Pool'),
    col('IPV4', 'string', '.status.current.ips[0].ipv4', 'ipv4'),
    col('IPV6POOL', 'string', '.status.current.ips[0].ipv6Pool', 'ipv6Pool'),
    col('IPV6', 'string', '.status.current.ips[0].ipv6', 'ipv6'),
    col('NODE', 'string', '.status.current.node', 'node'),
  ],
  SpiderReservedIP: [col('VERSION', 'string', '.spec.ipVersion', 'ipVersion')],
};

describe('CRD files', () => {
  it('holds exactly the four Spiderpool CRDs, one per file, named <group>_<plural>.yaml', () => {
    expect(crds.map((c) => c.crd.spec.names.kind).sort()).toEqual([...KINDS].sort());
    for (const { file, crd } of crds) expect(file).toBe(`crds/${GROUP}_${crd.spec.names.plural}.yaml`);
  });

  it('passes the structural lint (types everywhere, messages, CEL cost bounds, printer paths)', () => {
    expect(crds.flatMap(lintCRD)).toEqual([]);
  });
});

describe.each(KINDS)('%s', (kind) => {
  const { crd } = byKind(kind);
  const v = crd.spec.versions[0]!;

  it('is an apiextensions.k8s.io/v1 CRD in spiderpool.spidernet.io/v2beta1', () => {
    expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
    expect(crd.kind).toBe('CustomResourceDefinition');
    expect(crd.spec.group).toBe(GROUP);
    expect(crd.spec.versions).toHaveLength(1);
    expect(v).toMatchObject({ name: VERSION, served: true, storage: true });
  });

  it("has Spiderpool's names, scope, short name and category", () => {
    expect(crd.metadata.name).toBe(`${PLURALS[kind]}.${GROUP}`);
    expect(crd.spec.names).toEqual({
      categories: ['spiderpool'],
      kind,
      listKind: `${kind}List`,
      plural: PLURALS[kind],
      shortNames: [SHORT_NAMES[kind]],
      singular: kind.toLowerCase(),
    });
    expect(crd.spec.scope).toBe(NAMESPACED[kind] ? 'Namespaced' : 'Cluster');
  });

  it("has Spiderpool's printer columns (wide-only ones at priority 10), plus FREE on pools and subnets", () => {
    expect(v.additionalPrinterColumns).toEqual(EXPECTED_COLUMNS[kind]);
  });

  it('enables the status subresource exactly where Spiderpool does', () => {
    const withStatus = kind === 'SpiderIPPool' || kind === 'SpiderSubnet';
    expect(Boolean(v.subresources?.status)).toBe(withStatus);
  });
});

describe('schemas', () => {
  it('restrict ipVersion to the integer enum 4|6 wherever it appears', () => {
    for (const kind of ['SpiderIPPool', 'SpiderSubnet', 'SpiderReservedIP'] as const) {
      const ipVersion = schemaOf(byKind(kind).crd).properties!.spec!.properties!.ipVersion!;
      expect(ipVersion).toMatchObject({ type: 'integer', enum: [4, 6] });
    }
  });

  it('require spec and spec.subnet on pools and subnets', () => {
    for (const kind of ['SpiderIPPool', 'SpiderSubnet'] as const) {
      const root = schemaOf(byKind(kind).crd);
      expect(root.required).toEqual(['spec']);
      expect(root.properties!.spec!.required).toEqual(['subnet']);
    }
  });

  it('bound vlan to 0..4094 and require dst and gw on routes', () => {
    for (const kind of ['SpiderIPPool', 'SpiderSubnet'] as const) {
      const spec = schemaOf(byKind(kind).crd).properties!.spec!;
      expect(spec.properties!.vlan).toMatchObject({ type: 'integer', minimum: 0, maximum: 4094 });
      expect(spec.properties!.routes!.items!.required).toEqual(['dst', 'gw']);
    }
  });

  it('default spec.default and spec.disable to false on pools, as Spiderpool does', () => {
    const spec = schemaOf(byKind('SpiderIPPool').crd).properties!.spec!;
    expect(spec.properties!.default).toMatchObject({ type: 'boolean', default: false });
    expect(spec.properties!.disable).toMatchObject({ type: 'boolean', default: false });
  });
});

describe('CEL rules', () => {
  const rulesOf = (kind: SpiderKind) => collectRules(schemaOf(byKind(kind).crd));
  const find = (kind: SpiderKind, path: string, needle: string) =>
    rulesOf(kind).filter((r) => r.path === path && r.rule.rule.includes(needle));

  it.each(['SpiderIPPool', 'SpiderSubnet'] as const)('%s: subnet syntax, canonical form and immutability', (kind) => {
    const noun = kind === 'SpiderIPPool' ? 'pool' : 'subnet';
    expect(find(kind, 'spec.subnet', 'isCIDR(self)')).not.toHaveLength(0);
    expect(find(kind, 'spec.subnet', 'string(cidr(self).masked()) == self')).toHaveLength(1);
    const imm = find(kind, 'spec.subnet', 'self == oldSelf');
    expect(imm).toHaveLength(1);
    expect(imm[0]!.rule.message).toBe(`spec.subnet is immutable: create a new ${noun} instead`);
  });

  it.each(['SpiderIPPool', 'SpiderSubnet'] as const)('%s: ipVersion matches the subnet family and is immutable', (kind) => {
    expect(find(kind, 'spec', 'cidr(self.subnet).ip().family() == self.ipVersion')).toHaveLength(1);
    const imm = find(kind, 'spec', 'oldSelf.ipVersion');
    expect(imm).toHaveLength(1);
    expect(imm[0]!.rule.message).toMatch(/^spec\.ipVersion is immutable: create a new/);
  });

  it.each(['SpiderIPPool', 'SpiderSubnet'] as const)('%s: ips/excludeIPs syntax and containment, gateway and routes', (kind) => {
    for (const f of ['ips', 'excludeIPs']) {
      expect(find(kind, `spec.${f}[]`, "isIP(self.split('-')[0])")).toHaveLength(1);
      expect(find(kind, 'spec', `self.${f}.all(r,`)).toHaveLength(1);
    }
    expect(find(kind, 'spec.gateway', 'isIP(self)')).toHaveLength(1);
    expect(find(kind, 'spec', 'cidr(self.subnet).containsIP(self.gateway)')).toHaveLength(1);
    expect(find(kind, 'spec', 'cidr(self.subnet).containsIP(r.gw)')).toHaveLength(1);
    expect(find(kind, 'spec.routes', 'exists_one')).toHaveLength(1);
    expect(find(kind, 'spec.routes[]', 'prefixLength() != 0')).toHaveLength(1);
    expect(find(kind, 'spec.routes[].dst', 'isCIDR(self)')).toHaveLength(1);
  });

  it('SpiderIPPool: podAffinity must not be empty', () => {
    expect(find('SpiderIPPool', 'spec.podAffinity', 'size(self.matchLabels) > 0')).toHaveLength(1);
  });

  it('SpiderReservedIP: entries are addresses/ranges of the family ipVersion says', () => {
    expect(find('SpiderReservedIP', 'spec.ips[]', "isIP(self.split('-')[0])")).toHaveLength(1);
    expect(find('SpiderReservedIP', 'spec', "r.contains(':') == (self.ipVersion == 6)")).toHaveLength(1);
  });

  it('every rule has a static message that names the field (no messageExpression: its cost estimate is unbounded)', () => {
    for (const kind of KINDS) {
      for (const { path, rule } of rulesOf(kind)) {
        expect({ path, messageExpression: rule.messageExpression }).toEqual({ path, messageExpression: undefined });
        expect(rule.message).toMatch(/^spec\.[A-Za-z]+(\[\])?(\.[a-z]+)? /);
      }
    }
  });

  it('uses only CEL functions available in Kubernetes 1.33 (base env: strings v2, IP/CIDR libraries since 1.30)', () => {
    const allowed = new Set(['has', 'size', 'isCIDR', 'cidr', 'ip', 'family', 'isIP', 'containsIP', 'masked', 'string', 'split', 'all', 'exists_one', 'prefixLength', 'contains']);
    for (const kind of KINDS) {
      for (const { rule } of rulesOf(kind)) {
        for (const m of rule.rule.matchAll(/([A-Za-z_]+)\(/g)) expect({ rule: rule.rule, fn: m[1] }).toEqual({ rule: rule.rule, fn: [...allowed].find((a) => a === m[1]) });
      }
    }
  });
});
