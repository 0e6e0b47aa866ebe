// npm run lint:crds — parse every CRD in crds/ and every fixture in tests/fixtures, print a summary,
// exit 1 on structural problems: non-structural schema, CEL rules without a field-naming message,
// CEL-covered lists/strings without maxItems/maxLength (the apiserver's cost estimate needs bounds),
// printer columns that do not resolve, fixtures the structural schema does not treat as their headers
// say (`rejected-by: cel` ones must pass it). CEL is not evaluated here: the apiserver (CEL compile,
// cost estimate, every fixture) is checked by tests/integration/crds.test.ts.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { checkFixture, collectRules, lintCRD, loadCRDs, loadFixtures, repoRoot, schemaOf } from '../operator/test/crds/crd-check.js';

const root = repoRoot();
const problems: string[] = [];

const crds = loadCRDs(root);
console.log(`CRDs (${crds.length}):`);
for (const loaded of crds) {
  const { crd } = loaded;
  const v = crd.spec.versions[0]!;
  const rules = collectRules(schemaOf(crd));
  const cols = v.additionalPrinterColumns ?? [];
  console.log(
    `  ${crd.spec.names.kind.padEnd(17)} ${crd.spec.scope.padEnd(10)} short=${(crd.spec.names.shortNames ?? []).join(',').padEnd(3)} ` +
      `${crd.spec.group}/${v.name} status=${v.subresources?.status ? 'yes' : 'no '} columns=${cols.map((c) => c.name + (c.priority ? '*' : '')).join(',')} cel=${rules.length}`,
  );
  problems.push(...lintCRD(loaded));
}

const kustomization = parse(readFileSync(join(root, 'crds', 'Kustomization'), 'utf8')) as { resources?: string[] };
const listed = new Set(kustomization.resources ?? []);
for (const { file } of crds) {
  if (!listed.has(file.replace(/^crds\//, ''))) problems.push(`crds/Kustomization does not list ${file}`);
}

const fixtures = loadFixtures(root);
let valid = 0;
let schemaRejected = 0;
let celOnly = 0;
for (const fx of fixtures) {
  const r = checkFixture(fx, crds);
  problems.push(...r.problems);
  if (r.problems.length === 0) {
    if (fx.valid) valid++;
    else if (fx.rejectedBy === 'schema') schemaRejected++;
    else celOnly++;
  }
}
console.log(
  `Fixtures (${fixtures.length}): ${valid} valid accepted, ${schemaRejected} rejected by the schema, ` +
    `${celOnly} pass the schema and are left to CEL`,
);
console.log('CEL fixtures are checked by the apiserver in tests/integration/crds.test.ts');

if (problems.length > 0) {
  console.error(`\n${problems.length} problem(s):`);
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}
console.log('OK');
