// npm run metrics:gen          writes docs/metrics.md and config/prometheus/rules.yaml
// npm run metrics:gen -- --check  exits 1, naming the file, when either is out of date
import { readFileSync, writeFileSync } from 'node:fs';
import { generatedFiles } from './files.js';

const check = process.argv.includes('--check');
let stale = 0;
for (const f of generatedFiles()) {
  let current = '';
  try {
    current = readFileSync(f.path, 'utf8');
  } catch {
    // missing: stale
  }
  if (current === f.content) continue;
  if (check) {
    process.stderr.write(`${f.path} is out of date: run npm run metrics:gen\n`);
    stale++;
  } else {
    writeFileSync(f.path, f.content);
    process.stdout.write(`wrote ${f.path}\n`);
  }
}
process.exit(stale > 0 ? 1 : 0);
