// Builds the shim (ADR 0004):
//   dist/spiderpool-ts-ipam.mjs  one ESM bundle (esbuild), runnable with any Node 24: `node <file>`
//   dist/spiderpool-ts-ipam      the installed executable: a Node single executable application
//                                (this Node binary + the bundle as CommonJS + its V8 code cache)
//   dist/spiderpool-ts-agent.mjs the node-local agent (src/agent-main.ts, ADR 0013): long-lived, run
//                                with Node in the plugin image, so one ESM bundle and no SEA
//   dist/spiderpool-ts-install.mjs the plugin installer (src/install.ts: copy, enroll, CNI config),
//                                run with Node in the installer image (Dockerfile.plugin); not on the host
// The SEA starts faster than `node bundle.mjs` (no module loader, no compile) and is one file to copy
// into /opt/cni/bin, with no Node needed on the host.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const entry = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const common = { entryPoints: [entry], bundle: true, platform: 'node', target: 'node24', minify: true, legalComments: 'none', logLevel: 'warning' };

// The plugin installer bundles @peculiar/x509 and friends (CommonJS): give them a require in ESM.
async function buildInstaller(outDir) {
  await build({
    ...common,
    entryPoints: [fileURLToPath(new URL('../src/install.ts', import.meta.url))],
    format: 'esm',
    outfile: `${outDir}spiderpool-ts-install.mjs`,
    banner: { js: "import { createRequire as __spiderpoolRequire } from 'node:module'; const require = __spiderpoolRequire(import.meta.url);" },
  });
}
// `--installer-out <dir>`: only the installer, into <dir> (tests build it beside a shared dist/).
const at = process.argv.indexOf('--installer-out');
if (at > 0) {
  await buildInstaller(process.argv[at + 1].replace(/\/?$/, '/'));
  process.exit(0);
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
await build({ ...common, format: 'esm', outfile: `${dist}spiderpool-ts-ipam.mjs` });
await build({ ...common, entryPoints: [fileURLToPath(new URL('../src/agent-main.ts', import.meta.url))], format: 'esm', outfile: `${dist}spiderpool-ts-agent.mjs` });
await buildInstaller(dist);

// Node 24's SEA runs a CommonJS main; the same source bundles to both formats (no top-level await).
const work = `${dist}sea/`;
mkdirSync(work);
await build({ ...common, format: 'cjs', outfile: `${work}main.cjs` });
const config = { main: `${work}main.cjs`, output: `${work}prep.blob`, disableExperimentalSEAWarning: true, useCodeCache: true };
writeFileSync(`${work}sea-config.json`, JSON.stringify(config));
execFileSync(process.execPath, ['--experimental-sea-config', `${work}sea-config.json`], { stdio: ['ignore', 'ignore', 'inherit'] });

const exe = `${dist}spiderpool-ts-ipam`;
copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
const postject = fileURLToPath(import.meta.resolve('postject/dist/cli.js'));
execFileSync(process.execPath, [postject, exe, 'NODE_SEA_BLOB', config.output, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], {
  // postject warns about ELF note names it cannot map; harmless, and the run fails on real errors.
  stdio: ['ignore', 'ignore', 'ignore'],
});
rmSync(work, { recursive: true });
