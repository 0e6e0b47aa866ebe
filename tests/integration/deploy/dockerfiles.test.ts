// Dockerfile.operator and Dockerfile.plugin cannot be built here (no Docker engine), so they are
// checked statically: dockerfile-utils' validator (all checks on) and our policy (dockerfile-policy.ts:
// pinned Node 24 slim base, multi-stage, numeric non-root USER, no ADD of URLs, npm ci only,
// production dependencies only in the image, exec-form ENTRYPOINT). The policy is tested on bad
// Dockerfiles too, so a rule that silently never fires would show.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../support/cluster.js';
import { ignoredByDockerignore, lint, missingCopySources, policy } from './dockerfile-policy.js';

const read = (name: string) => readFileSync(join(repoRoot, name), 'utf8');

describe.each(['Dockerfile.operator', 'Dockerfile.plugin'])('%s', (name) => {
  test('dockerfile-utils finds nothing', () => expect(lint(read(name))).toEqual([]));
  test('passes the policy', () => expect(policy(read(name))).toEqual([]));
  test('every COPY from the build context exists and survives .dockerignore', () =>
    expect(missingCopySources(read(name), read('.dockerignore'), (p) => existsSync(join(repoRoot, p)))).toEqual([]));
});

test('.dockerignore rules as Docker applies them', () => {
  const ignore = read('.dockerignore');
  expect(ignoredByDockerignore('tests/package.json', ignore)).toBe(false);
  expect(ignoredByDockerignore('tests/integration/deploy/rbac.test.ts', ignore)).toBe(true);
  expect(ignoredByDockerignore('operator/node_modules/x/index.js', ignore)).toBe(true);
  expect(ignoredByDockerignore('ipam-plugin/dist/spiderpool-ts-ipam', ignore)).toBe(true);
  expect(ignoredByDockerignore('operator/src/main.ts', ignore)).toBe(false);
  expect(ignoredByDockerignore('operator/test/x.test.ts', ignore)).toBe(true);
  expect(ignoredByDockerignore('README.md', ignore)).toBe(true);
  expect(ignoredByDockerignore('operator/package.json', ignore)).toBe(false);
  // a COPY of something ignored or absent is reported
  expect(missingCopySources('FROM a\nCOPY docs/x.md hack/ nope.txt /x/\n', ignore, (p) => p !== 'nope.txt').map((f) => f.message)).toEqual([
    'COPY docs/x.md: excluded by .dockerignore',
    'COPY hack/: excluded by .dockerignore',
    'COPY nope.txt: not in the repository',
  ]);
});

test('.dockerignore keeps the build context to sources (no node_modules, dist, .git, tests except the workspace manifest)', () => {
  const lines = read('.dockerignore').split('\n').map((l) => l.trim());
  for (const p of ['**/node_modules', '**/dist', '.git', 'tests/**', '!tests/package.json']) expect(lines).toContain(p);
});

describe('the policy catches', () => {
  const rules = (df: string) => policy(df).map((f) => f.rule);
  test('a single stage running as root with npm install, latest, ADD of a URL and a shell-form entrypoint', () => {
    const bad = ['FROM node:latest', 'ADD https://example.invalid/x.tgz /x', 'RUN npm install', 'ENTRYPOINT node main.js', ''].join('\n');
    expect(rules(bad)).toEqual(expect.arrayContaining(['multi-stage', 'DL3006/DL3007 pinned base', 'DL3020 no ADD of URLs', 'npm ci', 'DL3025 exec form', 'DL3002 non-root']));
  });
  test('a moving tag, another Node, USER root, RUN after USER, dev dependencies shipped', () => {
    const bad = [
      'ARG BASE=node:22-slim',
      'FROM node:22.1.0-bookworm AS deps',
      'RUN npm ci',
      'FROM ${BASE}',
      'COPY --from=deps /src/node_modules ./node_modules',
      'USER 0',
      'RUN echo hi',
      'CMD ["node"]',
      '',
    ].join('\n');
    const found = policy(bad);
    expect(found.map((f) => f.rule)).toEqual(expect.arrayContaining(['node-24-slim', 'DL3006/DL3007 pinned base', 'DL3002 non-root', 'production-only']));
    expect(found.find((f) => f.rule === 'DL3006/DL3007 pinned base')?.message).toContain('node:22-slim');
  });
  test('an unknown FROM argument is reported as unpinned', () => {
    expect(rules('FROM ${NOPE} AS a\nFROM a\nUSER 1\n')).toContain('DL3006/DL3007 pinned base');
  });
  test('dockerfile-utils reports what it knows (e.g. lower-case instructions, relative WORKDIR)', () => {
    expect(lint('from node:24.21.0-bookworm-slim\nWORKDIR app\n').length).toBeGreaterThanOrEqual(2);
  });
});
