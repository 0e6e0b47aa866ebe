// Builds kubectl-spiderpool: one ESM bundle (esbuild, like ipam-plugin/scripts/build.mjs) with a
// `#!/usr/bin/env node` line, executable, so that `kubectl spiderpool …` finds it on PATH (kubectl
// runs any `kubectl-<name>` executable as a plugin). Needs Node >= 22.19 on PATH (client-node 2.x).
//   node operator/scripts/build-cli.mjs [--out <dir>]     default operator/dist/
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const at = process.argv.indexOf('--out');
const dist = at > 0 ? process.argv[at + 1].replace(/\/?$/, '/') : fileURLToPath(new URL('../dist/', import.meta.url));
mkdirSync(dist, { recursive: true });
const outfile = `${dist}kubectl-spiderpool`;

// Every module of a bundle shares the bundle's import.meta.url, so check-main.ts's "run when it is
// the process entry" test would hold inside this bundle and start an `ipam check` on load: drop it.
const dropScriptGuard = {
  name: 'drop-check-main-script-guard',
  setup(b) {
    b.onLoad({ filter: /cli[\\/]check-main\.ts$/ }, (args) => {
      const src = readFileSync(args.path, 'utf8');
      const guard = 'if (import.meta.url === pathToFileURL(process.argv[1] ??';
      if (!src.includes(guard)) throw new Error(`${args.path}: the script guard changed; update build-cli.mjs`);
      return { contents: src.replace(guard, 'if (false && import.meta.url === pathToFileURL(process.argv[1] ??'), loader: 'ts' };
    });
  },
};

await build({
  entryPoints: [fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))],
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  outfile,
  plugins: [dropScriptGuard],
  // CommonJS dependencies of client-node call require(): give them one in ESM.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __spiderpoolRequire } from 'node:module'; const require = __spiderpoolRequire(import.meta.url);" },
});
chmodSync(outfile, 0o755);
