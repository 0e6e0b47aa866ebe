// Reading JSON annotation values the way Go's encoding/json fills Spiderpool's structs, so that every
// annotation Spiderpool accepts we accept too: field names match exactly or case-insensitively
// ("IPv4" fills `ipv4`), unknown fields are ignored, `null` means "absent". Type mismatches (a string
// where a list is expected) are errors, as they are in Go.

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export function parseJson(raw: string): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch (e) {
    return { ok: false, reason: `not valid JSON (${(e as Error).message})` };
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go's json matches an exact key first, then any key equal under case folding. */
export function field(obj: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) {
    if (key.toLowerCase() === lower) return obj[key];
  }
  return undefined;
}

/** Keys that fill no known field. Go ignores them; we only mention them in error hints. */
export function unknownFields(obj: Record<string, unknown>, known: readonly string[]): string[] {
  const lowerKnown = new Set(known.map((k) => k.toLowerCase()));
  return Object.keys(obj).filter((k) => !lowerKnown.has(k.toLowerCase()));
}

/**
 * A list of object names (pools, subnets); `subject` names it in messages, e.g. `"ipv4"`. Empty names and duplicates are rejected up front:
 * Spiderpool fails on both later (GetIPPoolByName(""), precheckPoolCandidates "duplicate IPPool").
 */
export function readNameList(v: unknown, subject: string): Parsed<string[]> {
  if (v === undefined || v === null) return { ok: true, value: [] };
  if (!Array.isArray(v)) return { ok: false, reason: `${subject} must be a list of names` };
  const seen = new Set<string>();
  for (const item of v) {
    if (typeof item !== 'string') return { ok: false, reason: `${subject} must contain only strings` };
    if (item.trim() === '') return { ok: false, reason: `${subject} contains an empty name` };
    if (seen.has(item)) return { ok: false, reason: `${subject} lists "${item}" twice` };
    seen.add(item);
  }
  return { ok: true, value: v as string[] };
}

export function readOptionalString(v: unknown, fieldName: string): Parsed<string | undefined> {
  if (v === undefined || v === null) return { ok: true, value: undefined };
  if (typeof v !== 'string') return { ok: false, reason: `"${fieldName}" must be a string` };
  return { ok: true, value: v };
}

export function readBool(v: unknown, fieldName: string): Parsed<boolean> {
  if (v === undefined || v === null) return { ok: true, value: false };
  if (typeof v !== 'boolean') return { ok: false, reason: `"${fieldName}" must be true or false` };
  return { ok: true, value: v };
}

/** A hint appended to "no pool given" style errors: usually the cause is a legacy key like ipv4pools. */
export function ignoredFieldsHint(obj: Record<string, unknown>, known: readonly string[]): string {
  const unknown = unknownFields(obj, known);
  return unknown.length === 0 ? '' : ` (ignored unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')})`;
}
