// Pool-name globs in annotations, namespace defaults and CNI config. Spiderpool:
// pkg/ippoolmanager utils.go HasWildcardInStr decides whether a name is a glob ('*' or '?' anywhere,
// or both '[' and ']'), and ippool_manager.go ParseWildcardPoolNameList expands it with Go's
// filepath.Match against the pools of the requested IP version. We implement filepath.Match's syntax
// exactly: '*' any run, '?' one character, '[a-z]' / '[^a-z]' classes, '\' escapes; a pattern Go
// calls malformed (ErrBadPattern: unclosed '[', empty class, a class starting with '-' or ']',
// trailing '\') is an error here too.

export function hasWildcard(name: string): boolean {
  return name.includes('*') || name.includes('?') || (name.includes('[') && name.includes(']'));
}

export type CompiledGlob = { ok: true; test: (name: string) => boolean } | { ok: false; reason: string };

// Escaping differs inside and outside a class in a 'u' RegExp ('\-' is legal only inside).
const escapeOutside = (c: string) => c.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
const escapeInside = (c: string) => c.replace(/[\\\]\[^-]/g, '\\$&');

/** Go's getEsc: one class character, possibly escaped; '-' and ']' may not start it. */
function classChar(p: string, i: number): { ch: string; next: number } | undefined {
  const c = p[i];
  if (c === undefined || c === '-' || c === ']') return undefined;
  if (c === '\\') {
    const e = p[i + 1];
    return e === undefined ? undefined : { ch: e, next: i + 2 };
  }
  return { ch: c, next: i + 1 };
}

export function compileGlob(pattern: string): CompiledGlob {
  const bad = (why: string): CompiledGlob => ({ ok: false, reason: `malformed pool name pattern "${pattern}": ${why}` });
  let re = '';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === '*') {
      re += '[^/]*';
      i++;
    } else if (c === '?') {
      re += '[^/]';
      i++;
    } else if (c === '\\') {
      const e = pattern[i + 1];
      if (e === undefined) return bad('trailing "\\"');
      re += escapeOutside(e);
      i += 2;
    } else if (c === '[') {
      i++;
      let cls = '';
      if (pattern[i] === '^') {
        cls += '^';
        i++;
      }
      let ranges = 0;
      for (;;) {
        if (pattern[i] === ']' && ranges > 0) {
          i++;
          break;
        }
        const lo = classChar(pattern, i);
        if (lo === undefined) return bad(pattern[i] === undefined ? 'unclosed "["' : `unexpected "${pattern[i]}" in a character class`);
        i = lo.next;
        let hi = lo.ch;
        if (pattern[i] === '-') {
          const h = classChar(pattern, i + 1);
          if (h === undefined) return bad('incomplete range in a character class');
          hi = h.ch;
          i = h.next;
        }
        // Go accepts lo > hi and simply never matches it; a JS range would throw.
        cls += lo.ch <= hi ? `${escapeInside(lo.ch)}-${escapeInside(hi)}` : '';
        ranges++;
      }
      re += cls === '' || cls === '^' ? (cls === '^' ? '[^/]' : '(?!)') : `[${cls}]`;
    } else {
      re += escapeOutside(c);
      i++;
    }
  }
  const rx = new RegExp(`^${re}$`, 'u');
  return { ok: true, test: (name) => rx.test(name) };
}
