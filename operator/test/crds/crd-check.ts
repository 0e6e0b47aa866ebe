// Offline checks of crds/*.yaml and tests/fixtures: a loader, a structural OpenAPI validator (the
// subset our schemas use: type/enum/pattern/required/min/max/maxLength/maxItems/unknown fields), and
// JavaScript twins of every CEL rule so fixtures that only CEL rejects can be checked without an
// apiserver. The twins are not the authority — the apiserver is — but every rule string in the CRDs
// must have one (lint fails otherwise), so a changed rule forces a look at its twin and fixtures.
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
// IP helpers with the semantics of the Kubernetes CEL IP/CIDR libraries (Go net/netip, plus: no
// zones, no IPv4-mapped IPv6, no leading zeros in IPv4 octets).

export interface Addr {
  family: 4 | 6;
  bits: bigint;
}

export interface Prefix {
  addr: Addr;
  len: number;
}

function parseV4(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let out = 0n;
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p) || (p.length > 1 && p.startsWith('0'))) return null;
    const n = Number(p);
    if (n > 255) return null;
    out = (out << 8n) | BigInt(n);
  }
  return out;
}

function parseV6(s: string): bigint | null {
  if (s.includes('%')) return null; // zones are rejected
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): bigint[] | null => {
    if (h === '') return [];
    const out: bigint[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const g = parts[i]!;
      if (i === parts.length - 1 && g.includes('.')) {
        const v4 = parseV4(g);
        if (v4 === null) return null;
        out.push(v4 >> 16n, v4 & 0xffffn);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(BigInt(`0x${g}`));
    }
    return out;
  };
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if (left === null || right === null) return null;
  // An embedded IPv4 may only end the address.
  if (halves.length === 2 && halves[0]!.includes('.')) return null;
  let all: bigint[];
  if (halves.length === 2) {
    const missing = 8 - left.length - right.length;
    if (missing < 1) return null;
    all = [...left, ...Array<bigint>(missing).fill(0n), ...right];
  } else {
    if (left.length !== 8) return null;
    all = left;
  }
  return all.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** CEL `ip(s)`; null where CEL's ip() errors (and isIP is false). */
export function parseIP(s: string): Addr | null {
  if (s.includes(':')) {
    const bits = parseV6(s);
    if (bits === null) return null;
    if (bits >> 32n === 0xffffn) return null; // IPv4-mapped IPv6 is not allowed
    return { family: 6, bits };
  }
  const bits = parseV4(s);
  return bits === null ? null : { family: 4, bits };
}

/** CEL `cidr(s)` (host bits may be non-zero, as netip.ParsePrefix allows); null where it errors. */
export function parseCIDR(s: string): Prefix | null {
  const slash = s.lastIndexOf('/');
  if (slash < 0) return null;
  const addr = parseIP(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (addr === null || !/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return null;
  const len = Number(lenText);
  if (len > (addr.family === 4 ? 32 : 128)) return null;
  return { addr, len };
}

function width(f: 4 | 6): bigint {
  return f === 4 ? 32n : 128n;
}

export function maskedPrefix(p: Prefix): Prefix {
  const w = width(p.addr.family);
  const hostBits = w - BigInt(p.len);
  const bits = (p.addr.bits >> hostBits) << hostBits;
  return { addr: { family: p.addr.family, bits }, len: p.len };
}

/** Canonical text as Go's netip prints it (RFC 5952 for IPv6). */
export function formatIP(a: Addr): string {
  if (a.family === 4) {
    return [24n, 16n, 8n, 0n].map((sh) => String((a.bits >> sh) & 0xffn)).join('.');
  }
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((a.bits >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

export function formatCIDR(p: Prefix): string {
  return `${formatIP(p.addr)}/${p.len}`;
}

/** CEL `cidr(c).containsIP(ipString)`; throws where CEL would error (ip does not parse). */
export function cidrContainsIP(c: Prefix, ipText: string): boolean {
  const a = parseIP(ipText);
  if (a === null) throw new Error(`IP Address "${ipText}" parse error`);
  if (a.family !== c.addr.family) return false;
  const m = maskedPrefix(c);
  return maskedPrefix({ addr: a, len: c.len }).addr.bits === m.addr.bits;
}

// ------------------------------------------------------------------------------------------------
// CEL twins: one JavaScript predicate per rule string used in crds/*.yaml.

type Obj = Record<string, unknown>;
type Twin = (self: unknown, oldSelf: unknown) => boolean;

const isIP = (s: unknown): boolean => typeof s === 'string' && parseIP(s) !== null;
const isCIDR = (s: unknown): boolean => typeof s === 'string' && parseCIDR(s) !== null;
const has = (o: unknown, k: string): boolean => typeof o === 'object' && o !== null && (o as Obj)[k] !== undefined;
const cidrOf = (s: unknown): Prefix => {
  const p = typeof s === 'string' ? parseCIDR(s) : null;
  if (p === null) throw new Error(`network address parse error: ${String(s)}`);
  return p;
};

function rangeItemOk(self: unknown): boolean {
  const s = self as string;
  const parts = s.split('-');
  if (parts.length === 1) return isIP(s);
  return parts.length === 2 && isIP(parts[0]) && isIP(parts[1]) && parseIP(parts[0]!)!.family === parseIP(parts[1]!)!.family;
}

function rangesInsideSubnet(field: 'ips' | 'excludeIPs'): Twin {
  return (self) => {
    const o = self as Obj;
    if (!has(o, field) || !isCIDR(o.subnet)) return true;
    const subnet = cidrOf(o.subnet);
    return (o[field] as string[]).every((r) => {
      const parts = r.split('-');
      const first = parts[0]!;
      const last = parts[parts.length - 1]!;
      if (parts.length > 2 || !isIP(first) || !isIP(last)) return true;
      return cidrContainsIP(subnet, first) && cidrContainsIP(subnet, last);
    });
  };
}

const RANGE_ITEM_RULE =
  "self.split('-').size() == 1 ? isIP(self) : (self.split('-').size() == 2 && isIP(self.split('-')[0]) && isIP(self.split('-')[1]) && ip(self.split('-')[0]).family() == ip(self.split('-')[1]).family())";

const rangesRule = (f: string) =>
  `!has(self.${f}) || !isCIDR(self.subnet) || self.${f}.all(r, r.split('-').size() > 2 || !isIP(r.split('-')[0]) || !isIP(r.split('-')[r.split('-').size() - 1]) || (cidr(self.subnet).containsIP(r.split('-')[0]) && cidr(self.subnet).containsIP(r.split('-')[r.split('-').size() - 1])))`;

export const CEL_TWINS: ReadonlyMap<string, Twin> = new Map<string, Twin>([
  // spec (pool, subnet)
  [
    '!has(self.ipVersion) || !isCIDR(self.subnet) || cidr(self.subnet).ip().family() == self.ipVersion',
    (self) => {
      const o = self as Obj;
      return !has(o, 'ipVersion') || !isCIDR(o.subnet) || cidrOf(o.subnet).addr.family === o.ipVersion;
    },
  ],
  [
    '!has(oldSelf.ipVersion) || (has(self.ipVersion) && self.ipVersion == oldSelf.ipVersion)',
    (self, oldSelf) => !has(oldSelf, 'ipVersion') || (has(self, 'ipVersion') && (self as Obj).ipVersion === (oldSelf as Obj).ipVersion),
  ],
  [
    '!has(self.gateway) || !isCIDR(self.subnet) || !isIP(self.gateway) || cidr(self.subnet).containsIP(self.gateway)',
    (self) => {
      const o = self as Obj;
      return !has(o, 'gateway') || !isCIDR(o.subnet) || !isIP(o.gateway) || cidrContainsIP(cidrOf(o.subnet), o.gateway as string);
    },
  ],
  [rangesRule('ips'), rangesInsideSubnet('ips')],
  [rangesRule('excludeIPs'), rangesInsideSubnet('excludeIPs')],
  [
    '!has(self.routes) || !isCIDR(self.subnet) || self.routes.all(r, !isIP(r.gw) || cidr(self.subnet).containsIP(r.gw))',
    (self) => {
      const o = self as Obj;
      if (!has(o, 'routes') || !isCIDR(o.subnet)) return true;
      return (o.routes as Obj[]).every((r) => !isIP(r.gw) || cidrContainsIP(cidrOf(o.subnet), r.gw as string));
    },
  ],
  // spec.subnet, route dst
  ['isCIDR(self)', (self) => isCIDR(self)],
  ['!isCIDR(self) || string(cidr(self).masked()) == self', (self) => !isCIDR(self) || formatCIDR(maskedPrefix(cidrOf(self))) === self],
  ['self == oldSelf', (self, oldSelf) => JSON.stringify(self) === JSON.stringify(oldSelf)],
  // ips / excludeIPs items
  [RANGE_ITEM_RULE, rangeItemOk],
  // gateway, route gw
  ['isIP(self)', (self) => isIP(self)],
  // routes
  [
    'self.all(x, self.exists_one(y, y.dst == x.dst))',
    (self) => {
      const dsts = (self as Obj[]).map((r) => r.dst);
      return dsts.every((d) => dsts.filter((x) => x === d).length === 1);
    },
  ],
  [
    '!isCIDR(self.dst) || !isIP(self.gw) || cidr(self.dst).ip().family() == ip(self.gw).family()',
    (self) => {
      const r = self as Obj;
      return !isCIDR(r.dst) || !isIP(r.gw) || cidrOf(r.dst).addr.family === parseIP(r.gw as string)!.family;
    },
  ],
  ['!isCIDR(self.dst) || cidr(self.dst).prefixLength() != 0', (self) => !isCIDR((self as Obj).dst) || cidrOf((self as Obj).dst).len !== 0],
  // podAffinity
  [
    '(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)',
    (self) => {
      const o = self as Obj;
      return (has(o, 'matchLabels') && Object.keys(o.matchLabels as Obj).length > 0) || (has(o, 'matchExpressions') && (o.matchExpressions as unknown[]).length > 0);
    },
  ],
  // SpiderReservedIP spec
  [
    "!has(self.ipVersion) || !has(self.ips) || self.ips.all(r, r.contains(':') == (self.ipVersion == 6))",
    (self) => {
      const o = self as Obj;
      return !has(o, 'ipVersion') || !has(o, 'ips') || (o.ips as string[]).every((r) => r.includes(':') === (o.ipVersion === 6));
    },
  ],
]);

export function isTransitionRule(rule: string): boolean {
  return /\boldSelf\b/.test(rule);
}

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

/**
 * Evaluates the CEL twins over an object (and, for updates, the stored object) the way the apiserver
 * walks x-kubernetes-validations: each rule with `self` bound at its schema node; transition rules
 * only where an old value exists (object properties correlate by name; our lists are atomic, so
 * nothing under a list is correlated). A twin that throws counts as a failed rule, like a CEL error.
 */
export function evaluateCEL(schema: JSONSchema, obj: unknown, old?: unknown): string[] {
  const errs: string[] = [];
  const walk = (s: JSONSchema, v: unknown, ov: unknown, p: string) => {
    if (v === undefined || v === null) return;
    for (const r of s['x-kubernetes-validations'] ?? []) {
      const twin = CEL_TWINS.get(r.rule);
      if (!twin) throw new Error(`no JavaScript twin for CEL rule at ${p || '<root>'}: ${r.rule}`);
      if (isTransitionRule(r.rule) && (ov === undefined || ov === null)) continue;
      let ok: boolean;
      try {
        ok = twin(v, ov);
      } catch (e) {
        errs.push(`${p || '<root>'}: evaluation error (${(e as Error).message}) evaluating rule: ${r.message ?? r.rule}`);
        continue;
      }
      if (!ok) errs.push(`${p || '<root>'}${r.fieldPath ?? ''}: Invalid value: ${r.message ?? r.rule}`);
    }
    if (Array.isArray(v) && s.items) v.forEach((item, i) => walk(s.items!, item, undefined, `${p}[${i}]`));
    if (typeMatches('object', v)) {
      const o = v as Obj;
      const oo = typeMatches('object', ov) ? (ov as Obj) : undefined;
      for (const [k, child] of Object.entries(o)) {
        const cs = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
        if (cs) walk(cs, child, oo?.[k], p === '' ? k : `${p}.${k}`);
      }
    }
  };
  walk(schema, obj, old, '');
  return errs;
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
      if (!CEL_TWINS.has(rule.rule)) p(`${path}: CEL rule has no JavaScript twin in operator/test/crds/crd-check.ts: ${rule.rule}`);
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

/** Checks one fixture against the CRD of its kind; returns problems (empty when it behaves as labelled). */
export function checkFixture(fx: Fixture, crds: LoadedCRD[]): { problems: string[]; schemaErrors: string[]; celErrors: string[] } {
  const problems: string[] = [];
  const kind = fx.obj.kind;
  const loaded = crds.find((c) => c.crd.spec.names.kind === kind);
  if (!loaded) return { problems: [`${fx.file}: no CRD for kind ${String(kind)}`], schemaErrors: [], celErrors: [] };
  const { crd } = loaded;
  if (fx.obj.apiVersion !== `${crd.spec.group}/${crd.spec.versions[0]!.name}`) problems.push(`${fx.file}: apiVersion ${String(fx.obj.apiVersion)}`);
  const schema = schemaOf(crd);
  const schemaErrors = validateSchema(schema, fx.obj);
  if (fx.old) schemaErrors.push(...validateSchema(schema, fx.old).map((e) => `(stored object) ${e}`));
  const celErrors = schemaErrors.length === 0 ? evaluateCEL(schema, fx.obj, fx.old) : [];
  if (fx.valid) {
    if (fx.rejectedBy) problems.push(`${fx.file}: a valid fixture must not carry rejected-by`);
    for (const e of [...schemaErrors, ...celErrors]) problems.push(`${fx.file}: expected valid, got: ${e}`);
  } else {
    if (!fx.rejectedBy || !fx.expect || !fx.why) problems.push(`${fx.file}: invalid fixtures need '# rejected-by:', '# expect:' and '# why:' headers`);
    const errs = fx.rejectedBy === 'schema' ? schemaErrors : celErrors;
    if (fx.rejectedBy === 'cel' && schemaErrors.length > 0) problems.push(`${fx.file}: labelled cel but the schema already rejects it: ${schemaErrors.join('; ')}`);
    if (errs.length === 0) problems.push(`${fx.file}: expected rejection by ${fx.rejectedBy ?? '?'}, but it is accepted`);
    else if (fx.expect && !errs.some((e) => e.includes(fx.expect!))) problems.push(`${fx.file}: rejected, but no message contains "${fx.expect}": ${errs.join('; ')}`);
  }
  return { problems, schemaErrors, celErrors };
}
