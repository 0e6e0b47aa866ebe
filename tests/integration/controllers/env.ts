// Shared set-up for the derived-view controllers' integration tests: a throwaway namespace and a
// kubelet-less Node (pods bound to it are never run; the Node must exist or the pod GC removes them),
// informers and a Manager running the controllers exactly as the operator does, and IPAMBlocks written
// straight to the apiserver in the allocator's layout (slotOf names, pool label, encoded entries).
import { Writable } from 'node:stream';
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { type BlockEntry, IPAM_API_VERSION, IPAM_GROUP, IPAM_VERSION, IPAMBLOCK_PLURAL, LABEL_BLOCK_POOL, encodeEntry } from '../../../operator/src/api/internal/ipamblock.js';
import { createLogger, type Logger } from '../../../operator/src/framework/logger.js';
import { poolLabelValue, slotOf } from '../../../operator/src/service/block-layout.js';
import { kubectl } from '../../support/cluster.js';
import { createTestNamespace } from '../../support/test-namespace.js';
import { waitFor } from '../helpers/wait.js';

export interface Env {
  kc: KubeConfig;
  ns: string;
  node: string;
  log: Logger;
  /** Every JSON log line the controllers wrote. */
  logLines: Record<string, unknown>[];
  custom: CustomObjectsApi;
  core: CoreV1Api;
}

export async function setUp(prefix: string): Promise<Env> {
  const { kc, ns, node } = await createTestNamespace(prefix);
  const logLines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: process.env.TEST_LOG_LEVEL ?? 'info',
    defaultMeta: { test: prefix },
    stream: new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
        cb();
      },
    }),
  });
  return { kc, ns, node, log, logLines, custom: kc.makeApiClient(CustomObjectsApi), core: kc.makeApiClient(CoreV1Api) };
}

export async function tearDown(env: Env, pools: readonly string[], reserved: readonly string[] = []): Promise<void> {
  // No kubelet ever confirms a pod's end: a pod deleted gracefully (by the namespace controller, or a
  // workload controller recreating it) stays Terminating and keeps the namespace terminating. Stop the
  // workloads, delete the namespace, and force-delete its pods until it is gone.
  await kubectl(['delete', 'deployments,statefulsets', '--all', '-n', env.ns, '--ignore-not-found']).catch(() => undefined);
  await kubectl(['delete', 'namespace', env.ns, '--wait=false', '--ignore-not-found']);
  await waitFor(`namespace ${env.ns} gone`, async () => {
    await kubectl(['delete', 'pods', '--all', '-n', env.ns, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    const out = await kubectl(['get', 'namespace', env.ns, '--ignore-not-found', '-o', 'name']);
    return { ok: out.trim() === '', detail: out };
  }, 60_000, 1_000).catch(() => undefined);
  await kubectl(['delete', 'node', env.node, '--ignore-not-found']);
  for (const p of pools) {
    await kubectl(['delete', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `${LABEL_BLOCK_POOL}=${poolLabelValue(p)}`, '--ignore-not-found']);
    await kubectl(['delete', 'spiderippool', p, '--ignore-not-found']);
  }
  for (const r of reserved) await kubectl(['delete', 'spiderreservedip', r, '--ignore-not-found']);
}

export async function applyJSON(obj: unknown): Promise<void> {
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(obj) });
}

/** Label on this run's pools and reserved IPs: the controllers under test watch only those. */
export const RUN_LABEL = 'spiderpool-ts.io/controllers-test';

export async function createPool(name: string, spec: Record<string, unknown>, run: string): Promise<void> {
  await applyJSON({ apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderIPPool', metadata: { name, labels: { [RUN_LABEL]: run } }, spec });
}

/**
 * Informer scopes for one run: the cluster is shared, and controllers watching everything would
 * rewrite other tests' pools and delete their hand-made SpiderEndpoints.
 */
export function scopes(env: Env, run: string, pools: readonly string[]) {
  return {
    pools: { labelSelector: `${RUN_LABEL}=${run}` },
    reserved: { labelSelector: `${RUN_LABEL}=${run}` },
    blocks: { labelSelector: `${LABEL_BLOCK_POOL} in (${pools.map(poolLabelValue).join(',')})` },
    namespaced: { namespace: env.ns },
  };
}

/** A pod bound to env.node; returns its uid. */
export async function createPod(env: Env, name: string, extra: { ownerReferences?: unknown[]; annotations?: Record<string, string> } = {}): Promise<string> {
  const pod = await env.core.createNamespacedPod({
    namespace: env.ns,
    body: {
      metadata: { name, namespace: env.ns, ...(extra.annotations ? { annotations: extra.annotations } : {}), ...(extra.ownerReferences ? { ownerReferences: extra.ownerReferences as never } : {}) },
      spec: { nodeName: env.node, tolerations: [{ operator: 'Exists' }], automountServiceAccountToken: false, containers: [{ name: 'c', image: 'registry.invalid/pause:1' }] },
    },
  });
  return pod.metadata?.uid ?? '';
}

export interface Alloc {
  ip: string;
  pod: string;
  uid: string;
  nic?: string;
  ok?: string;
}

/**
 * Sets the entries of the block of `pool` covering the given addresses to exactly `allocs` (creating,
 * replacing or deleting the block), as the allocator's committer would: one write per block, guarded
 * by the resourceVersion just read.
 */
export async function writeBlock(env: Env, pool: string, poolUID: string, cidrOf: string, allocs: readonly Alloc[], node: string): Promise<void> {
  // Another writer (an allocator or pod-release controller of a test running beside us on the shared
  // cluster) may change or delete the block between our read and our write: re-read and retry.
  for (let attempt = 1; ; attempt++) {
    try {
      return await writeBlockOnce(env, pool, poolUID, cidrOf, allocs, node);
    } catch (e) {
      if (!(e instanceof ApiException && (e.code === 404 || e.code === 409)) || attempt >= 5) throw e;
    }
  }
}

async function writeBlockOnce(env: Env, pool: string, poolUID: string, cidrOf: string, allocs: readonly Alloc[], node: string): Promise<void> {
  const family = cidrOf.includes(':') ? 6 : 4;
  const ref = slotOf(pool, family, cidrOf).block;
  const base = { group: IPAM_GROUP, version: IPAM_VERSION, plural: IPAMBLOCK_PLURAL };
  let current: (KubernetesObject & { spec: { seq: number } }) | undefined;
  try {
    current = (await env.custom.getClusterCustomObject({ ...base, name: ref.name })) as typeof current;
  } catch (e) {
    if (!(e instanceof ApiException && e.code === 404)) throw e;
  }
  let seq = current?.spec.seq ?? 0;
  const allocations: Record<string, string> = {};
  for (const a of allocs) {
    const slot = slotOf(pool, family, a.ip);
    if (slot.block.name !== ref.name) throw new Error(`${a.ip} is not in block ${ref.name}`);
    const entry: BlockEntry = { uid: a.uid, pod: a.pod, nic: a.nic ?? 'eth0', seq: ++seq, cid: `cid-${a.uid.slice(0, 8)}`, node, at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), ...(a.ok ? { ok: a.ok } : {}) };
    allocations[String(slot.offset)] = encodeEntry(entry);
  }
  if (allocs.length === 0) {
    if (current) await env.custom.deleteClusterCustomObject({ ...base, name: ref.name, body: { preconditions: { resourceVersion: current.metadata?.resourceVersion } } });
    return;
  }
  const body = {
    apiVersion: IPAM_API_VERSION,
    kind: 'IPAMBlock',
    metadata: {
      name: ref.name,
      labels: { [LABEL_BLOCK_POOL]: poolLabelValue(pool) },
      ownerReferences: [{ apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderIPPool', name: pool, uid: poolUID }],
      ...(current ? { resourceVersion: current.metadata?.resourceVersion } : {}),
    },
    spec: { pool, poolUID, cidr: ref.cidr, seq, allocated: allocs.length, allocations },
  };
  if (current) await env.custom.replaceClusterCustomObject({ ...base, name: ref.name, body });
  else await env.custom.createClusterCustomObject({ ...base, body });
}

export async function poolUID(name: string): Promise<string> {
  return (await kubectl(['get', 'spiderippool', name, '-o', 'jsonpath={.metadata.uid}'])).trim();
}
