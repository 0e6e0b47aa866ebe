#!/usr/bin/env node
// Completes package-lock.json with the platform-specific optional packages that this workplace's npm
// registry does not serve (e.g. @swc/core-darwin-arm64, @bufbuild/buf-win32-x64: 404 here).
//
// Why: `npm install` here cannot read their metadata, so it leaves them out of the lock; `npm ci` then
// refuses the lock ("Missing: @swc/core-darwin-arm64@ from lock file") on every machine, this one
// included. The fix is to record each missing optional package with its exact version and the
// os/cpu/libc its name declares, as npm would have: `npm ci` sees a complete lock and skips the
// package because the platform does not match. Run after every `npm install` that changes the lock;
// `.ci/run` runs it with --check and fails on a lock that needs it.
//
//   node hack/complete-lockfile.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const check = process.argv.includes('--check');
const lock = JSON.parse(readFileSync(path, 'utf8'));
const pkgs = lock.packages;

const OS = ['darwin', 'win32', 'linux', 'android', 'freebsd', 'openbsd', 'netbsd', 'sunos', 'aix', 'openharmony'];
const CPU = { x64: 'x64', arm64: 'arm64', arm: 'arm', armv7: 'arm', ia32: 'ia32', ppc64: 'ppc64', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', wasm32: 'wasm32' };

/** os/cpu/libc from a platform package name such as `@swc/core-linux-arm-gnueabihf`. */
function platformOf(name) {
  const tokens = name.split('/').pop().split('-');
  const os = tokens.find((t) => OS.includes(t));
  const cpu = tokens.map((t) => CPU[t]).find(Boolean);
  if (!os || !cpu) return undefined;
  const meta = { os: [os], cpu: [cpu] };
  if (os === 'linux') {
    if (tokens.some((t) => t.startsWith('musl'))) meta.libc = ['musl'];
    else if (tokens.some((t) => t.startsWith('gnu'))) meta.libc = ['glibc'];
  }
  return meta;
}

/** Where npm would look for `dep` when required from the package at `from` (nearest node_modules up). */
function resolves(from, dep) {
  for (let dir = from; ; ) {
    const candidate = dir ? `${dir}/node_modules/${dep}` : `node_modules/${dep}`;
    if (pkgs[candidate]) return true;
    if (!dir) return false;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

const added = [];
for (const [from, entry] of Object.entries(pkgs)) {
  for (const [dep, range] of Object.entries(entry.optionalDependencies ?? {})) {
    if (resolves(from, dep)) continue;
    const meta = platformOf(dep);
    if (!meta || !/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(range)) {
      console.error(`cannot complete ${dep}@${range} (needed by ${from || 'the root'}): not an exact version or no platform in its name`);
      process.exitCode = 1;
      continue;
    }
    const at = pkgs[`node_modules/${dep}`] ? `${from}/node_modules/${dep}` : `node_modules/${dep}`;
    pkgs[at] = { version: range, license: 'UNKNOWN', optional: true, ...meta };
    added.push(`${dep}@${range}`);
  }
}

if (check) {
  if (added.length > 0) {
    console.error(`package-lock.json lacks ${added.length} platform packages (${added.slice(0, 3).join(', ')}, …): run node hack/complete-lockfile.mjs`);
    process.exit(1);
  }
  console.log('package-lock.json is complete');
} else if (added.length > 0) {
  lock.packages = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
  writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`added ${added.length} platform packages to package-lock.json`);
} else {
  console.log('package-lock.json is complete');
}
