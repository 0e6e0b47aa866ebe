// Offline checks of crds/*.yaml and tests/fixtures: a loader, a structural OpenAPI validator (the
// subset our schemas use: type/enum/pattern/required/min/max/maxLength/maxItems/unknown fields) and a
// CRD lint. CEL (x-kubernetes-validations) is not evaluated offline: tests/integration/crds.test.ts
// submits every fixture to a real kube-apiserver, which is the authority on both layers.
// Shared by operator/test/crds/*.test.ts and hack/lint-crds.ts.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';

// ------------------------------------------------------------------------------------------------
// Loading

export interface JSONSchema {
  type?: string;
  description?: string;
  format?: string;
  enum?: unknown[];
  pattern?: string;
  required?: string[];
  properties?: Record<string, JSONSchema>;
  additionalProperties?: JSONSchema | boolean;
  items?: JSONSchema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  default?: unknown;
  'x-kubernetes-validations'?: CELRule[];
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-map-type'?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export interface CELRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: string;
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface CRD {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames?: string[];
      categories?: string[];
    };
    scope: 'Cluster' | 'Namespaced';
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object; scale?: object };
      additionalPrinterColumns?: PrinterColumn[];
      schema: { openAPIV3Schema: JSONSchema };
    }>;
  };
}

export interface LoadedCRD {
  file: string;
  crd: CRD;
}

export function repoRoot(): string {
  // operator/test/crds -> repo root, without relying on import.meta (jest/swc) or cwd.
  let dir = process.cwd();
  for (let i = 0; i < 6; i++) {
    try {
      readFileSync(join(dir, 'crds', 'Kustomization'));
      return dir;
    } catch {
      dir = join(dir, '..');
    }
  }
  throw new Error('cannot find the repository root (a directory with crds/Kustomization)');
}

function parseYamlDocs(file: string): unknown[] {
  const text = readFileSync(file, 'utf8');
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new Error(`${file}: not a YAML stream`);
  const out: unknown[] = [];
  for (const d of docs) {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    const js: unknown = d.toJS();
    if (js !== null && js !== undefined) out.push(js);
  }
  return out;
}

export function loadCRDs(root = repoRoot()): LoadedCRD[] {
  const dir = join(root, 'crds');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const docs = parseYamlDocs(join(dir, f));
      if (docs.length !== 1) throw new Error(`crds/${f}: expected exactly one YAML document, got ${docs.length}`);
      return { file: `crds/${f}`, crd: docs[0] as CRD };
    });
}

export interface Fixture {
  file: string;
  valid: boolean;
  rejectedBy?: 'schema' | 'cel';
  expect?: string;
  why?: string;
  /** The stored object for an update (first document of a two-document file). */
  old?: Record<string, unknown>;
  obj: Record<string, unknown>;
}

export function loadFixtures(root = repoRoot()): Fixture[] {
  const out: Fixture[] = [];
  for (const sub of ['valid', 'invalid'] as const) {
    const dir = join(root, 'tests', 'fixtures', sub);
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml')).sort()) {
      const path = join(dir, f);
      const text = readFileSync(path, 'utf8');
      const header = (key: string): string | undefined =>
        text.split('\n').find((l) => l.startsWith(`# ${key}: `))?.slice(key.length + 4).trim();
      const docs = parseYamlDocs(path) as Array<Record<string, unknown>>;
      if (docs.length < 1 || docs.length > 2) throw new Error(`${f}: expected one object or an old/new pair`);
      const rejectedBy = header('rejected-by');
      if (rejectedBy !== undefined && rejectedBy !== 'schema' && rejectedBy !== 'cel') {
        throw new Error(`${f}: rejected-by must be schema or cel, got ${rejectedBy}`);
      }
      const fx: Fixture = {
        file: relative(root, path),
        valid: sub === 'valid',
        obj: docs[docs.length - 1]!,
      };
      if (docs.length === 2) fx.old = docs[0]!;
      if (rejectedBy !== undefined) fx.rejectedBy = rejectedBy;
      const expect = header('expect');
      if (expect !== undefined) fx.expect = expect;
      const why = header('why');
      if (why !== undefined) fx.why = why;
      out.push(fx);
    }
  }
  return out;
}

export function schemaOf(crd: CRD): JSONSchema {
  const v = crd.spec.versions[0];
  if (!v) throw new Error(`${crd.metadata.name}: no versions`);
  return v.schema.openAPIV3Schema;
}

// ------------------------------------------------------------------------------------------------
// Structural OpenAPI validation (messages shaped like the apiserver's)

function jsType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(type: string, v: unknown): boolean {
  switch (type) {
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    default:
      return false;
  }
}

/** Validates `value` against `schema`; unknown fields are errors (kubectl's default strict mode). */
export function validateSchema(schema: JSONSchema, value: unknown, path = ''): string[] {
  const errs: string[] = [];
  const at = (p: string) => (p === '' ? '<root>' : p);
  const walk = (s: JSONSchema, v: unknown, p: string): void => {
    if (v === undefined || v === null) return; // nulls of non-nullable fields are pruned
    if (s.type && !typeMatches(s.type, v)) {
      errs.push(`${at(p)}: Invalid value: "${jsType(v)}": ${at(p)} in body must be of type ${s.type}: "${jsType(v)}"`);
      return;
    }
    if (s.enum && !s.enum.some((e) => e === v)) {
      errs.push(`${at(p)}: Unsupported value: ${JSON.stringify(v)}: supported values: ${s.enum.map((e) => JSON.stringify(String(e))).join(', ')}`);
    }
    if (typeof v === 'string') {
      if (s.maxLength !== undefined && Buffer.byteLength(v) > s.maxLength) {
        errs.push(`${at(p)}: Too long: may not be more than ${s.maxLength} bytes`);
      }
      if (s.minLength !== undefined && v.length < s.minLength) errs.push(`${at(p)}: Invalid value: "${v}": should be at least ${s.minLength} chars long`);
      if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v)) {
        errs.push(`${at(p)}: Invalid value: "${v}": ${at(p)} in body should match '${s.pattern}'`);
      }
    }
    if (typeof v === 'number') {
      if (s.minimum !== undefined && v < s.minimum) errs.push(`${at(p)}: Invalid value: ${v}: ${at(p)} in body should be greater than or equal to ${s.minimum}`);
      if (s.maximum !== undefined && v > s.maximum) errs.push(`${at(p)}: Invalid value: ${v}: ${at(p)} in body should be less than or equal to ${s.maximum}`);
    }
    if (Array.isArray(v)) {
      if (s.maxItems !== undefined && v.length > s.maxItems) errs.push(`${at(p)}: Too many: ${v.length}: must have at most ${s.maxItems} items`);
      if (s.items) v.forEach((item, i) => walk(s.items!, item, `${p}[${i}]`));
    }
    if (typeMatches('object', v)) {
      const o = v as Record<string, unknown>;
      for (const r of s.required ?? []) {
        if (o[r] === undefined || o[r] === null) errs.push(`${p === '' ? r : `${p}.${r}`}: Required value`);
      }
      const props = s.properties;
      const addl = s.additionalProperties;
      if (!props && !addl) return; // e.g. metadata: {type: object} — validated by the apiserver itself
      for (const [k, child] of Object.entries(o)) {
        const cp = p === '' ? k : `${p}.${k}`;
        const ps = props?.[k];
        if (ps) walk(ps, child, cp);
        else if (addl && typeof addl === 'object') walk(addl, child, cp);
        else if (!addl && !s['x-kubernetes-preserve-unknown-fields']) errs.push(`unknown field "${cp}"`);
      }
    }
  };
  walk(schema, value, path);
  return errs;
}

// ------------------------------------------------------------------------------------------------
// CEL rules (listed and linted here; evaluated only by the apiserver, see tests/integration/crds.test.ts)

/** Every x-kubernetes-validations rule in a schema, with the schema path it sits on. */
export function collectRules(schema: JSONSchema, path = ''): Array<{ path: string; rule: CELRule; schema: JSONSchema }> {
  const out: Array<{ path: string; rule: CELRule; schema: JSONSchema }> = [];
  const walk = (s: JSONSchema, p: string) => {
    for (const rule of s['x-kubernetes-validations'] ?? []) out.push({ path: p, rule, schema: s });
    for (const [k, child] of Object.entries(s.properties ?? {})) walk(child, p === '' ? k : `${p}.${k}`);
    if (s.items) walk(s.items, `${p}[]`);
    if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${p}.*`);
  };
  walk(schema, path);
  return out;
}

// ------------------------------------------------------------------------------------------------
// Lint: structural problems in the CRDs themselves

/** Resolves a printer-column JSONPath (.a.b[0].c, .a['k\.x']) to a schema node, or undefined. */
export function schemaAtJSONPath(schema: JSONSchema, jsonPath: string): JSONSchema | undefined {
  const tokens: string[] = [];
  const re = /\.([A-Za-z0-9_]+)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(jsonPath)) !== null) {
    consumed = re.lastIndex;
    if (m[1] !== undefined) tokens.push(m[1]);
    else if (m[2] !== undefined) tokens.push('[]');
    else if (m[3] !== undefined) tokens.push(m[3].replace(/\\(.)/g, '$1'));
  }
  if (consumed !== jsonPath.length) return undefined;
  let s: JSONSchema | undefined = schema;
  for (const t of tokens) {
    if (!s) return undefined;
    if (t === '[]') s = s.items;
    else s = s.properties?.[t] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
  }
  return s;
}

export function lintCRD({ file, crd }: LoadedCRD): string[] {
  const problems: string[] = [];
  const p = (msg: string) => problems.push(`${file}: ${msg}`);
  if (crd.apiVersion !== 'apiextensions.k8s.io/v1') p(`apiVersion must be apiextensions.k8s.io/v1, got ${crd.apiVersion}`);
  if (crd.kind !== 'CustomResourceDefinition') p(`kind must be CustomResourceDefinition`);
  const { names, group } = crd.spec;
  if (crd.metadata.name !== `${names.plural}.${group}`) p(`metadata.name must be ${names.plural}.${group}`);
  if (names.listKind !== `${names.kind}List`) p(`listKind must be ${names.kind}List`);
  if (names.singular !== names.kind.toLowerCase()) p(`singular must be ${names.kind.toLowerCase()}`);
  const storage = crd.spec.versions.filter((v) => v.storage);
  if (storage.length !== 1) p(`exactly one version must be the storage version`);
  for (const v of crd.spec.versions) {
    const root = v.schema?.openAPIV3Schema;
    if (!root) {
      p(`version ${v.name} has no openAPIV3Schema`);
      continue;
    }
    // Structural schema: every node has a type (apiextensions rejects non-structural schemas).
    const walk = (s: JSONSchema, path: string) => {
      if (!s.type && !s['x-kubernetes-preserve-unknown-fields']) p(`${path}: no type (schema must be structural)`);
      if (s.type === 'array' && !s.items) p(`${path}: array without items`);
      for (const [k, c] of Object.entries(s.properties ?? {})) walk(c, `${path}.${k}`);
      if (s.items) walk(s.items, `${path}[]`);
      if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${path}.*`);
      if (s.pattern !== undefined) {
        try {
          new RegExp(s.pattern, 'u');
        } catch (e) {
          p(`${path}: bad pattern: ${(e as Error).message}`);
        }
      }
    };
    walk(root, '<root>');
    for (const { path, rule } of collectRules(root)) {
      if (!rule.message && !rule.messageExpression) p(`${path}: CEL rule without message: ${rule.rule}`);
      if (rule.message && !/spec\.|status\./.test(rule.message)) p(`${path}: CEL message must name the field: ${rule.message}`);
    }
    // CEL cost: every list and string a rule can iterate or scan must be bounded. A node is covered
    // when it carries rules, sits under a covered list, or an ancestor's rule names it (`.name`).
    const bounded = (s: JSONSchema, path: string, covered: boolean, ancestorRules: string[]) => {
      const own = (s['x-kubernetes-validations'] ?? []).map((r) => r.rule);
      const ruled = covered || own.length > 0;
      if (ruled && s.type === 'array' && s.maxItems === undefined) p(`${path}: list covered by CEL rules needs maxItems (cost budget)`);
      if (ruled && s.type === 'string' && s.maxLength === undefined && !s.enum) p(`${path}: string covered by CEL rules needs maxLength (cost budget)`);
      // has(self.x) and size(self.x) are O(1): they do not make x's size matter.
      const rules = [...ancestorRules, ...own].map((r) => r.replace(/\b(has|size)\(self\.\w+\)/g, ''));
      for (const [k, c] of Object.entries(s.properties ?? {})) {
        const named = rules.some((r) => new RegExp(`\\.${k}\\b`).test(r));
        bounded(c, `${path}.${k}`, named, rules);
      }
      if (s.items) bounded(s.items, `${path}[]`, ruled, rules);
    };
    const spec = root.properties?.spec;
    if (spec) bounded(spec, 'spec', false, []);
    for (const c of v.additionalPrinterColumns ?? []) {
      const target = schemaAtJSONPath(root, c.jsonPath);
      if (!target) p(`printer column ${c.name}: ${c.jsonPath} does not resolve in the schema`);
      else if (c.type === 'integer' && target.type !== 'integer') p(`printer column ${c.name}: type integer but ${c.jsonPath} is ${target.type}`);
      else if (c.type === 'boolean' && target.type !== 'boolean') p(`printer column ${c.name}: type boolean but ${c.jsonPath} is ${target.type}`);
    }
  }
  return problems;
}

/**
 * Checks one fixture against the structural schema of its kind; returns problems (empty when it
 * behaves as labelled offline). Valid and `rejected-by: cel` fixtures must pass the structural schema
 * (for the latter: only CEL can reject them); `rejected-by: schema` ones must fail it with the
 * `# expect:` text. Whether CEL accepts or rejects is checked by the apiserver (tests/integration).
 */
export function checkFixture(fx: Fixture, crds: LoadedCRD[]): { problems: string[]; schemaErrors: string[] } {
  const problems: string[] = [];
  const kind = fx.obj.kind;
  const loaded = crds.find((c) => c.crd.spec.names.kind === kind);
  if (!loaded) return { problems: [`${fx.file}: no CRD for kind ${String(kind)}`], schemaErrors: [] };
  const { crd } = loaded;
  if (fx.obj.apiVersion !== `${crd.spec.group}/${crd.spec.versions[0]!.name}`) problems.push(`${fx.file}: apiVersion ${String(fx.obj.apiVersion)}`);
  const schema = schemaOf(crd);
  const schemaErrors = validateSchema(schema, fx.obj);
  if (fx.old) schemaErrors.push(...validateSchema(schema, fx.old).map((e) => `(stored object) ${e}`));
  if (fx.valid) {
    if (fx.rejectedBy) problems.push(`${fx.file}: a valid fixture must not carry rejected-by`);
    for (const e of schemaErrors) problems.push(`${fx.file}: expected valid, got: ${e}`);
  } else {
    if (!fx.rejectedBy || !fx.expect || !fx.why) problems.push(`${fx.file}: invalid fixtures need '# rejected-by:', '# expect:' and '# why:' headers`);
    if (fx.rejectedBy === 'cel') {
      if (schemaErrors.length > 0) problems.push(`${fx.file}: labelled cel but the schema already rejects it: ${schemaErrors.join('; ')}`);
    } else if (schemaErrors.length === 0) problems.push(`${fx.file}: expected rejection by ${fx.rejectedBy ?? '?'}, but it is accepted`);
    else if (fx.expect && !schemaErrors.some((e) => e.includes(fx.expect!))) problems.push(`${fx.file}: rejected, but no message contains "${fx.expect}": ${schemaErrors.join('; ')}`);
  }
  return { problems, schemaErrors };
}
