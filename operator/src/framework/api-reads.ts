// Reads that go to the API rather than a cache (a cache may not have seen an object created a moment
// ago, or the object is not watched), where "not found" is an answer, not an error.
import { ApiException, type AppsV1Api, type CoreV1Api, type V1Pod, type V1StatefulSet } from '@kubernetes/client-node';

/** What `read` returns, or undefined on HTTP 404; any other failure is an Error naming what was read. */
export async function unlessNotFound<T>(what: string, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof ApiException && e.code === 404) return undefined;
    throw new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

export function readPod(core: CoreV1Api, namespace: string, name: string): Promise<V1Pod | undefined> {
  return unlessNotFound(`reading pod ${namespace}/${name}`, () => core.readNamespacedPod({ namespace, name }));
}

/** The StatefulSet, or undefined when it is gone or being deleted (its pods' addresses are not kept for it). */
export async function readLiveStatefulSet(apps: AppsV1Api, namespace: string, name: string): Promise<V1StatefulSet | undefined> {
  const sts = await unlessNotFound(`reading statefulset ${namespace}/${name}`, () => apps.readNamespacedStatefulSet({ namespace, name }));
  return sts?.metadata?.deletionTimestamp ? undefined : sts;
}
