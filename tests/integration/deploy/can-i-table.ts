// What the operator's and the installer's ServiceAccounts may and may not do, as
// `kubectl auth can-i <args> -n <namespace>` rows. `$NS` is the namespace the manifests were applied
// to (spiderpool-ts-system in a real install; the test's own namespace in rbac.test.ts).
// docs/security.md prints this table; rbac.test.ts checks every row against the real apiserver.
export interface CanIRow {
  who: 'operator' | 'installer';
  /** kubectl auth can-i arguments (verb, resource[/name], flags) */
  args: string[];
  expect: boolean;
  why: string;
}

const op = (expect: boolean, why: string, ...args: string[]): CanIRow => ({ who: 'operator', args, expect, why });
const inst = (expect: boolean, why: string, ...args: string[]): CanIRow => ({ who: 'installer', args, expect, why });

export const CAN_I_TABLE: readonly CanIRow[] = [
  // ---- operator: what it needs ----
  op(true, 'pod cache (allocation checks, release on delete)', 'watch', 'pods', '--all-namespaces'),
  op(true, 'pod lookup for /enroll and the allocator', 'get', 'pods', '-n', 'default'),
  op(true, 'node cache (pool nodeAffinity)', 'list', 'nodes'),
  op(true, 'namespace cache (namespace default pools)', 'watch', 'namespaces'),
  op(true, 'allocation records (ADR 0005)', 'update', 'ipamblocks.ipam.spiderpool-ts.io'),
  op(true, 'allocation records are deleted when empty', 'delete', 'ipamblocks.ipam.spiderpool-ts.io'),
  op(true, 'per-address holder history (ADR 0011)', 'update', 'ipamhistories.ipam.spiderpool-ts.io'),
  op(false, 'holder history is only appended, never deleted (the pool owns it)', 'delete', 'ipamhistories.ipam.spiderpool-ts.io'),
  op(true, 'auto pools per workload', 'create', 'spiderippools.spiderpool.spidernet.io'),
  op(true, 'auto pools are deleted with their workload', 'delete', 'spiderippools.spiderpool.spidernet.io'),
  op(true, 'pool counts are derived into status', 'patch', 'spiderippools.spiderpool.spidernet.io', '--subresource=status'),
  op(true, 'subnet status (carved ranges)', 'update', 'spidersubnets.spiderpool.spidernet.io', '--subresource=status'),
  op(true, 'reserved IPs are read', 'list', 'spiderreservedips.spiderpool.spidernet.io'),
  op(true, 'SpiderEndpoint per pod, in the pod namespace', 'create', 'spiderendpoints.spiderpool.spidernet.io', '-n', 'default'),
  op(true, 'StatefulSet replicas (kept identities)', 'get', 'statefulsets.apps', '-n', 'default'),
  op(true, 'SpiderEndpoint owner lookup', 'get', 'replicasets.apps', '-n', 'default'),
  op(true, 'workload pools follow Deployments', 'watch', 'deployments.apps', '--all-namespaces'),
  op(true, 'workload pools follow CronJobs', 'list', 'cronjobs.batch', '--all-namespaces'),
  op(true, 'workload pools follow DaemonSets', 'watch', 'daemonsets.apps', '--all-namespaces'),
  op(true, 'workload pools follow Jobs', 'watch', 'jobs.batch', '--all-namespaces'),
  op(true, 'Events on pods for allocation failures', 'create', 'events', '-n', 'default'),
  op(true, '/enroll checks installer tokens', 'create', 'tokenreviews.authentication.k8s.io'),
  op(true, 'leader election', 'update', 'leases.coordination.k8s.io', '-n', '$NS'),
  op(true, 'leader election: the renew is a holder-conditional patch', 'patch', 'leases.coordination.k8s.io', '-n', '$NS'),
  op(true, 'its CA Secret, by name', 'get', 'secrets/spiderpool-ts-ca', '-n', '$NS'),
  op(true, 'creates its CA Secret once', 'create', 'secrets', '-n', '$NS'),
  op(true, 'publishes the CA bundle', 'update', 'configmaps/spiderpool-ts-ca-bundle', '-n', '$NS'),
  // ---- operator: what it must not ----
  op(false, 'no other Secret, even in its namespace', 'get', 'secrets/some-other-secret', '-n', '$NS'),
  op(false, 'cannot list Secrets in its namespace', 'list', 'secrets', '-n', '$NS'),
  op(false, 'no Secrets elsewhere', 'get', 'secrets', '-n', 'kube-system'),
  op(false, 'no Secrets cluster-wide', 'list', 'secrets', '--all-namespaces'),
  op(false, 'cannot create Secrets outside its namespace', 'create', 'secrets', '-n', 'kube-system'),
  op(false, 'never deletes pods (GC releases IPs, not pods)', 'delete', 'pods', '-n', 'default'),
  op(false, 'never creates pods', 'create', 'pods', '-n', 'default'),
  op(false, 'never patches pods', 'patch', 'pods', '-n', 'default'),
  op(false, 'no exec into pods', 'create', 'pods/exec', '-n', 'default'),
  op(false, 'never writes nodes', 'update', 'nodes'),
  op(false, 'never deletes namespaces', 'delete', 'namespaces'),
  op(false, 'workloads are read only', 'update', 'deployments.apps', '-n', 'default'),
  op(false, 'workloads are read only', 'delete', 'statefulsets.apps', '-n', 'default'),
  op(false, 'reserved IPs belong to the user', 'create', 'spiderreservedips.spiderpool.spidernet.io'),
  op(false, 'subnets belong to the user', 'delete', 'spidersubnets.spiderpool.spidernet.io'),
  op(false, 'subnets belong to the user', 'create', 'spidersubnets.spiderpool.spidernet.io'),
  op(false, 'no Leases outside its namespace', 'update', 'leases.coordination.k8s.io', '-n', 'kube-system'),
  op(false, 'other ConfigMaps are not its business', 'get', 'configmaps/kube-root-ca.crt', '-n', '$NS'),
  op(false, 'no tokens for other accounts', 'create', 'serviceaccounts/token', '-n', '$NS'),
  op(false, 'no RBAC writes (no escalation)', 'create', 'clusterrolebindings.rbac.authorization.k8s.io'),
  op(false, 'no RBAC writes (no escalation)', 'create', 'roles.rbac.authorization.k8s.io', '-n', '$NS'),
  op(false, 'no impersonation', 'impersonate', 'users'),
  op(false, 'not cluster-admin', '*', '*', '--all-namespaces'),
  op(false, 'no CRD writes (installed by the admin)', 'update', 'customresourcedefinitions.apiextensions.k8s.io'),
  // ---- installer: nothing but to exist ----
  inst(true, 'every authenticated account may ask what it may do (system:basic-user)', 'create', 'selfsubjectaccessreviews.authorization.k8s.io'),
  inst(false, 'no pod reads', 'get', 'pods', '-n', '$NS'),
  inst(false, 'no node reads', 'list', 'nodes'),
  inst(false, 'no Secrets (not even the CA)', 'get', 'secrets/spiderpool-ts-ca', '-n', '$NS'),
  inst(false, 'the CA bundle comes as a volume, not via the API', 'get', 'configmaps/spiderpool-ts-ca-bundle', '-n', '$NS'),
  inst(false, 'cannot review tokens itself', 'create', 'tokenreviews.authentication.k8s.io'),
  inst(false, 'no pool writes', 'create', 'spiderippools.spiderpool.spidernet.io'),
  inst(false, 'no allocation records', 'list', 'ipamblocks.ipam.spiderpool-ts.io'),
  inst(false, 'no SpiderEndpoints', 'list', 'spiderendpoints.spiderpool.spidernet.io', '--all-namespaces'),
  inst(false, 'no Leases (cannot become leader)', 'update', 'leases.coordination.k8s.io', '-n', '$NS'),
  inst(false, 'no CSRs (the API CSR signer is not used)', 'create', 'certificatesigningrequests.certificates.k8s.io'),
  inst(false, 'not cluster-admin', '*', '*', '--all-namespaces'),
];
