// Structured mutation for fuzzers: a valid document with one node changed, so that cases stay close
// enough to valid to reach deep code (shared by the annotation, CRD-spec and other fuzzers).

/** The value with one randomly chosen node (object field or array element) replaced or removed. */
export function mutateAt(value: unknown, path: number[], replacement: unknown, remove: boolean): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object') return replacement;
  const [step, ...rest] = path as [number, ...number[]];
  if (Array.isArray(value)) {
    if (value.length === 0) return [replacement];
    const i = step % value.length;
    const copy = [...value];
    if (remove && rest.length === 0) copy.splice(i, 1);
    else copy[i] = mutateAt(copy[i], rest, replacement, remove);
    return copy;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return { x: replacement };
  const k = keys[step % keys.length]!;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  if (remove && rest.length === 0) delete copy[k];
  else copy[k] = mutateAt(copy[k], rest, replacement, remove);
  return copy;
}
