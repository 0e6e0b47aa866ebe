// config/default is what users install with `kubectl apply -k config/default`. This test builds it
// with the cluster's kubectl (kustomize v5), checks the objects and the properties the issue asks
// for (2 operator replicas, probes, non-root, read-only root FS, pinned images, every variable
// operator/src/config.ts reads), and has the local kube-apiserver accept all of it in a server-side
// dry run: once exactly as a user types it (the namespace does not exist in a dry run, so only the
// cluster-scoped objects can pass), and once moved into a throwaway namespace where every object must.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubectlError, kubectl, repoRoot } from '../../support/cluster.js';
import { createTestNamespace } from '../../support/test-namespace.js';
import { makeOverlay, type ManifestObject, parseManifests } from './overlay.js';

type Container = {
  name: string;
  image: string;
  env?: { name: string; value?: string }[];
  args?: string[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; runAsNonRoot?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string }[];
};
type PodSpec = { serviceAccountName?: string; securityContext?: { runAsNonRoot?: boolean; runAsUser?: number }; containers: Container[]; volumes?: Record<string, unknown>[] };
type Workload = ManifestObject & { spec: { replicas?: number; template: { spec: PodSpec } } };

const find = (objs: ManifestObject[], kind: string, name: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`config/default has no ${kind} ${name}; it has: ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
};

/** Every environment variable operator/src/config.ts loadConfig reads (str/int/bool/file helpers and env.X). */
function variablesReadByLoadConfig(): string[] {
  const src = readFileSync(join(repoRoot, 'operator', 'src', 'config.ts'), 'utf8');
  const names = new Set<string>();
  for (const m of src.matchAll(/\b(?:str|int|bool|file|list|commaList|duration|optional\w*)\(\s*'([A-Z][A-Z0-9_]+)'/g)) names.add(m[1]!);
  for (const m of src.matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)) names.add(m[1]!);
  for (const m of src.matchAll(/\benv\[\s*'([A-Z][A-Z0-9_]+)'\s*\]/g)) names.add(m[1]!);
  return [...names].sort();
}

// Read by loadConfig but deliberately not set in the Deployment, each with the reason.
const NOT_SET_IN_CLUSTER: Record<string, string> = {
  KUBECONFIG: 'in-cluster: the ServiceAccount token',
  GRPC_ADVERTISE_ADDRESS: 'derived from POD_IP',
  TLS_CERT_FILE: 'TLS_MODE=operator-ca issues the serving certificate from the CA Secret',
  TLS_KEY_FILE: 'TLS_MODE=operator-ca',
  CLIENT_CA_FILE: 'TLS_MODE=operator-ca: the CA Secret is the client CA',
  SERVER_IP_ADDRESSES: 'defaults to POD_IP',
  INSTALLER_NAMESPACE: 'defaults to POD_NAMESPACE (the installer is installed beside the operator)',
};

describe('config/default (kustomize)', () => {
  let objs: ManifestObject[];

  beforeAll(async () => {
    objs = parseManifests(await kubectl(['kustomize', join(repoRoot, 'config', 'default')]));
  });

  test('builds with the expected objects', () => {
    const kinds = objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual(
      expect.arrayContaining([
        'Namespace/spiderpool-ts-system',
        'CustomResourceDefinition/spiderippools.spiderpool.spidernet.io',
        'CustomResourceDefinition/spidersubnets.spiderpool.spidernet.io',
        'CustomResourceDefinition/spiderendpoints.spiderpool.spidernet.io',
        'CustomResourceDefinition/spiderreservedips.spiderpool.spidernet.io',
        'CustomResourceDefinition/ipamblocks.ipam.spiderpool-ts.io',
        'ServiceAccount/spiderpool-ts-operator',
        'ServiceAccount/spiderpool-ts-installer',
        'ClusterRole/spiderpool-ts-operator',
        'ClusterRoleBinding/spiderpool-ts-operator',
        'Role/spiderpool-ts-operator',
        'RoleBinding/spiderpool-ts-operator',
        'Deployment/spiderpool-ts-operator',
        'Service/spiderpool-ts-operator',
        'PodDisruptionBudget/spiderpool-ts-operator',
        'DaemonSet/spiderpool-ts-installer',
        'ConfigMap/spiderpool-ts-cni-config',
      ]),
    );
    for (const o of objs) {
      const clusterScoped = ['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'].includes(o.kind);
      expect([o.kind, o.metadata.namespace]).toEqual([o.kind, clusterScoped ? undefined : 'spiderpool-ts-system']);
    }
    // The installer has no RBAC binding at all.
    const bound = objs.filter((o) => o.kind.endsWith('Binding')).flatMap((o) => (o as unknown as { subjects: { name: string }[] }).subjects.map((s) => s.name));
    expect(bound).not.toContain('spiderpool-ts-installer');
  });

  test('operator Deployment: 2 replicas, probes, resources, hardened container, every config variable', () => {
    const d = find(objs, 'Deployment', 'spiderpool-ts-operator') as Workload;
    expect(d.spec.replicas).toBe(2);
    const pod = d.spec.template.spec;
    expect(pod.serviceAccountName).toBe('spiderpool-ts-operator');
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.securityContext?.runAsUser).not.toBe(0);
    const c = pod.containers[0]!;
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(c.resources?.requests?.cpu).toBeTruthy();
    expect(c.resources?.limits?.memory).toBeTruthy();
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const env = new Map((c.env ?? []).map((e) => [e.name, e.value]));
    const health = env.get('HEALTH_PORT');
    expect((c as unknown as { ports: { name: string; containerPort: number }[] }).ports).toContainEqual(expect.objectContaining({ name: 'health', containerPort: Number(health) }));
    const read = variablesReadByLoadConfig();
    expect(read).toEqual(expect.arrayContaining(['POD_NAME', 'POD_NAMESPACE', 'GRPC_PORT', 'HEALTH_PORT', 'LEASE_DURATION_SECONDS']));
    const missing = read.filter((v) => !env.has(v) && !(v in NOT_SET_IN_CLUSTER));
    expect(missing).toEqual([]);
    // ...and nothing is set that the operator does not read (a typo would silently keep a default).
    const unread = [...env.keys()].filter((v) => !read.includes(v));
    expect(unread).toEqual([]);
  });

  test('images are pinned to a version tag, never latest', () => {
    const images = objs.flatMap((o) => ((o as Workload).spec?.template?.spec?.containers ?? []).map((c) => c.image));
    expect(images.length).toBeGreaterThanOrEqual(2);
    for (const image of images) expect(image).toMatch(/^[a-z0-9./-]+:(\d+\.\d+\.\d+)(@sha256:[0-9a-f]{64})?$/);
  });

  test('installer DaemonSet: copies into /opt/cni/bin and /etc/cni/net.d, enrolls with an audience-bound token, no API token', () => {
    const ds = find(objs, 'DaemonSet', 'spiderpool-ts-installer') as Workload;
    const pod = ds.spec.template.spec as PodSpec & { automountServiceAccountToken?: boolean };
    expect(pod.serviceAccountName).toBe('spiderpool-ts-installer');
    expect(pod.automountServiceAccountToken).toBe(false);
    const vols = JSON.stringify(pod.volumes);
    expect(vols).toContain('"path":"/opt/cni/bin"');
    expect(vols).toContain('"path":"/etc/cni/net.d"');
    expect(vols).toContain('"audience":"spiderpool-ts"');
    expect(vols).toContain('"name":"spiderpool-ts-ca-bundle"');
    const c = pod.containers[0]!;
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const env = new Map((c.env ?? []).map((e) => [e.name, e.value]));
    expect(env.get('NODE_NAME')).toBeUndefined(); // from the downward API, not a literal
    expect((c.env ?? []).find((e) => e.name === 'NODE_NAME')).toMatchObject({ valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
    // The operator by its Service's ClusterIP variables (no DNS before the node has an IPAM); the
    // Service must have the two port names install.ts reads.
    expect(env.get('OPERATOR_SERVICE_NAME')).toBe('spiderpool-ts-operator');
    expect(env.get('TLS_SERVER_NAME')).toBe('spiderpool-ts-operator.$(POD_NAMESPACE).svc');
    const svc = find(objs, 'Service', 'spiderpool-ts-operator') as unknown as { spec: { ports: { name: string }[] } };
    expect(svc.spec.ports.map((p) => p.name)).toEqual(expect.arrayContaining(['grpc', 'enroll']));
    // Where ipam-plugin/src/install.ts looks by default: the host dirs, the template, the CA, the token.
    const mounts = (c.volumeMounts ?? []).map((m) => m.mountPath).sort();
    expect(mounts).toEqual(['/etc/spiderpool-ts/ca', '/etc/spiderpool-ts/cni', '/host/etc/cni/net.d', '/host/opt/cni/bin', '/var/run/secrets/spiderpool-ts']);
    const install = readFileSync(join(repoRoot, 'ipam-plugin', 'src', 'install.ts'), 'utf8');
    for (const path of ['/host/opt/cni/bin', '/host/etc/cni/net.d', '/etc/spiderpool-ts/cni/conflist.template', '/etc/spiderpool-ts/ca/ca.crt', '/var/run/secrets/spiderpool-ts/token']) expect(install).toContain(`'${path}'`);
  });

  test('the apiserver accepts `kubectl apply -k config/default --server-side --dry-run=server`', async () => {
    // As typed by a user on a cluster without the namespace: a dry run creates nothing, so the
    // namespaced objects can only fail with "namespaces ... not found" and everything else must pass.
    let out: string;
    try {
      out = await kubectl(['apply', '-k', join(repoRoot, 'config', 'default'), '--server-side', '--dry-run=server', '--force-conflicts', '--field-manager=spiderpool-ts-deploy-test']);
    } catch (e) {
      if (!(e instanceof KubectlError)) throw e;
      const other = e.stderr.split('\n').filter((l) => l.trim() && !/namespaces "spiderpool-ts-system" not found/.test(l));
      expect(other).toEqual([]);
      out = e.stdout;
    }
    for (const o of objs.filter((x) => !x.metadata.namespace)) {
      expect(out).toMatch(new RegExp(`/${o.metadata.name.replace(/\./g, '\\.')} serverside-applied \\(server dry run\\)`));
    }
  });

  test('every object is accepted (server-side dry run) when its namespace exists', async () => {
    const { ns, node } = await createTestNamespace('deploy-dry');
    const overlay = makeOverlay('config/default', { namespace: ns, namePrefix: `${ns}-` });
    try {
      const built = parseManifests(await overlay.build());
      expect(built.length).toBe(objs.length);
      const out = await kubectl(['apply', '-k', overlay.dir, '--server-side', '--dry-run=server', '--force-conflicts', '--field-manager=spiderpool-ts-deploy-test']);
      const accepted = out.split('\n').filter((l) => /serverside-applied \(server dry run\)$/.test(l));
      expect(accepted.length).toBe(objs.length);
      // Nothing was created: a dry run.
      expect(await kubectl(['get', 'deployments,daemonsets,serviceaccounts', '-n', ns, '-o', 'name'])).not.toContain('spiderpool-ts');
      expect(await kubectl(['get', 'clusterrole', `${ns}-spiderpool-ts-operator`, '--ignore-not-found', '-o', 'name'])).toBe('');
    } finally {
      overlay.remove();
      await kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
      await kubectl(['delete', 'node', node, '--ignore-not-found']);
    }
  });

  test('config/samples (SpiderSubnet, SpiderIPPool, annotated Deployment) are accepted in a server-side dry run', async () => {
    const samples = parseManifests(await kubectl(['kustomize', join(repoRoot, 'config', 'samples')]));
    expect(samples.map((o) => o.kind).sort()).toEqual(['Deployment', 'SpiderIPPool', 'SpiderSubnet']);
    const dep = samples.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } };
    expect(JSON.parse(dep.spec.template.metadata.annotations['ipam.spidernet.io/ippool']!)).toEqual({ ipv4: ['sample-ippool-v4'] });
    const out = await kubectl(['apply', '-k', join(repoRoot, 'config', 'samples'), '--server-side', '--dry-run=server', '--field-manager=spiderpool-ts-deploy-test']);
    expect(out.split('\n').filter((l) => /serverside-applied \(server dry run\)$/.test(l)).length).toBe(3);
  });
});
