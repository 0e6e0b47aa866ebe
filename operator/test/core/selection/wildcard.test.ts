import { compileGlob, hasWildcard } from '../../../src/core/selection/index.js';

const match = (p: string, s: string) => {
  const g = compileGlob(p);
  if (!g.ok) throw new Error(g.reason);
  return g.test(s);
};

describe('wildcard detection (HasWildcardInStr)', () => {
  it.each([
    ['pool', false],
    ['pool?', true],
    ['pool*', true],
    ['pool[abc]', true],
    ['pool[', false],
    ['pool]', false],
    ['a]b[', true],
  ])('%s → %s', (s, want) => expect(hasWildcard(s)).toBe(want));
});

describe('glob matching (Go filepath.Match)', () => {
  it.each([
    ['v4-*', 'v4-pool-a', true],
    ['v4-*', 'v4-', true],
    ['v4-*', 'v6-pool', false],
    ['*', 'anything.at-all', true],
    ['pool-?', 'pool-1', true],
    ['pool-?', 'pool-12', false],
    ['pool-[0-9]', 'pool-7', true],
    ['pool-[0-9]', 'pool-x', false],
    ['pool-[^0-9]', 'pool-x', true],
    ['pool-[^0-9]', 'pool-7', false],
    ['pool-[ab]', 'pool-b', true],
    ['pool-[a-cx-z]', 'pool-y', true],
    ['pool-[a-cx-z]', 'pool-m', false],
    ['pool-[\\-]', 'pool--', true],
    ['pool-[\\]]', 'pool-]', true],
    ['pool\\*', 'pool*', true],
    ['pool\\*', 'poolx', false],
    ['a.b*', 'a.bc', true],
    ['a.b*', 'axbc', false],
    ['(x)|*', '(x)|y', true],
    ['pool-[z-a]', 'pool-m', false],
  ])('%s vs %s → %s', (p, s, want) => expect(match(p, s)).toBe(want));

  it.each(['pool-[', 'pool-[]', 'pool-[^]', 'pool-[-a]', 'pool-[a-]', 'pool\\', 'pool-[a'])('%s is a malformed pattern', (p) => {
    const g = compileGlob(p);
    expect(g.ok).toBe(false);
    if (!g.ok) expect(g.reason).toContain(`malformed pool name pattern "${p}"`);
  });
});
