#!/usr/bin/env node
// Prints one plain closing line for a whole `npm test` run — "tests: N passed, N failed, N skipped" —
// summed over the jest JSON reports of the unit and integration runs (results/jest-*.json), so a
// reader (or CI) sees one total instead of two jest summaries. Exits non-zero when a report is missing
// or any test failed.
import { existsSync, readFileSync } from 'node:fs';

const reports = ['results/jest-unit.json', 'results/jest-integration.json'];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of reports) {
  if (!existsSync(file)) {
    console.error(`missing ${file}: did that jest run start?`);
    process.exitCode = 1;
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
  skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failed > 0) process.exitCode = 1;
