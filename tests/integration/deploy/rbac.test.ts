// config/rbac applied for real (into this test's namespace, every name prefixed with it, so nothing
// shared is touched and the ClusterRole/ClusterRoleBinding are unique), then every row of
// can-i-table.ts asked of the apiserver with `kubectl auth can-i --as=system:serviceaccount:…`:
// what the operator and the installer CAN do and what they CANNOT.
import { createTestNamespace, type TestNamespace } from '../../support/test-namespace.js';
import { kubectl } from '../../support/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { CAN_I_TABLE, type CanIRow } from './can-i-table.js';
import { canI, makeOverlay, parseManifests } from './overlay.js';

let t: TestNamespace;
let prefix: string;
const applied: string[] = [];

beforeAll(async () => {
  t = await createTestNamespace('deploy-rbac');
  prefix = `${t.ns}-`;
  const overlay = makeOverlay('config/rbac', { namespace: t.ns, namePrefix: prefix });
  try {
    const objs = parseManifests(await overlay.build());
    for (const o of objs) if (!o.metadata.namespace) applied.push(`${o.kind.toLowerCase()}/${o.metadata.name}`);
    await kubectl(['apply', '-k', overlay.dir, '--server-side', '--field-manager=spiderpool-ts-deploy-test']);
  } finally {
    overlay.remove();
  }
  // The apiserver's RBAC authorizer works from a cache: wait (bounded) until the binding is seen.
  const sa = { namespace: t.ns, name: `${prefix}spiderpool-ts-operator` };
  await waitFor('the operator binding to take effect', async () => ({ ok: await canI(sa, ['create', 'tokenreviews.authentication.k8s.io']), detail: 'can-i says no' }), 30_000, 200);
});

afterAll(async () => {
  // Cluster-scoped objects first: the namespace delete takes the rest.
  for (const o of applied) await kubectl(['delete', o, '--ignore-not-found']).catch(() => undefined);
  if (t) {
    await kubectl(['delete', 'namespace', t.ns, '--wait=false', '--ignore-not-found']);
    await kubectl(['delete', 'node', t.node, '--ignore-not-found']);
  }
});

const label = (r: CanIRow) => `${r.who} ${r.expect ? 'CAN' : 'CANNOT'} ${r.args.join(' ')} — ${r.why}`;

test('the applied ClusterRole and ClusterRoleBinding are unique to this run', () => {
  expect(applied.sort()).toEqual([`clusterrole/${prefix}spiderpool-ts-operator`, `clusterrolebinding/${prefix}spiderpool-ts-operator`]);
});

test.each(CAN_I_TABLE.map((r) => [label(r), r] as const))('%s', async (_name, row) => {
  const sa = { namespace: t.ns, name: `${prefix}spiderpool-ts-${row.who}` };
  const args = row.args.map((a) => a.replace('$NS', t.ns));
  expect(await canI(sa, args)).toBe(row.expect);
});

test('a ServiceAccount of the same name in another namespace gets nothing (the bindings name the namespace)', async () => {
  expect(await canI({ namespace: 'default', name: `${prefix}spiderpool-ts-operator` }, ['list', 'pods', '--all-namespaces'])).toBe(false);
});
