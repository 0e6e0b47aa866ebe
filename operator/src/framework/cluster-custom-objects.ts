// One kind of cluster-scoped custom object over client-node's CustomObjectsApi: typed results, a read
// of a missing object as undefined, and every other failure turned into the caller's own error by one
// mapper (each store has its conflict type and its wording: a lost compare-and-swap is something the
// caller acts on, so it must not be buried in a generic message).
import { ApiException, type CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

/** Where the objects live. */
export interface CustomResource {
  group: string;
  version: string;
  plural: string;
}

export type CustomObjectOp = 'get' | 'create' | 'replace' | 'replaceStatus' | 'mergePatch' | 'delete';

/** The error a failed call becomes (409 → the caller's conflict type, anything else → context). */
export type ApiErrorMapper = (e: unknown, op: CustomObjectOp, name: string) => Error;

/** The HTTP status of a failed API call; undefined for a failure that never got an answer. */
export const httpStatus = (e: unknown): number | undefined => (e instanceof ApiException ? e.code : undefined);

/** "HTTP 409: <start of the body>" for an API answer, the message for anything else. */
export function apiErrorDetail(e: unknown): string {
  return e instanceof ApiException ? `HTTP ${e.code}: ${String(e.body).slice(0, 300)}` : e instanceof Error ? e.message : String(e);
}

/** `<subject>: <op> failed: <detail>`, the failure kept as the cause. */
export function apiFailure(subject: string, op: string, e: unknown): Error {
  return new Error(`${subject}: ${op} failed: ${apiErrorDetail(e)}`, { cause: e });
}

type Named = { metadata?: { name?: string } };

export class ClusterCustomObjects<T> {
  constructor(
    private readonly api: CustomObjectsApi,
    private readonly resource: CustomResource,
    private readonly mapError: ApiErrorMapper,
  ) {}

  /** The object, or undefined when it does not exist. */
  async get(name: string): Promise<T | undefined> {
    try {
      return (await this.api.getClusterCustomObject({ ...this.resource, name })) as T;
    } catch (e) {
      if (httpStatus(e) === 404) return undefined;
      throw this.mapError(e, 'get', name);
    }
  }

  create(body: Named): Promise<T> {
    return this.call('create', body.metadata?.name ?? '', () => this.api.createClusterCustomObject({ ...this.resource, body }));
  }

  /** Guarded by body.metadata.resourceVersion when it has one. */
  replace(body: Named): Promise<T> {
    const name = body.metadata?.name ?? '';
    return this.call('replace', name, () => this.api.replaceClusterCustomObject({ ...this.resource, name, body }));
  }

  /** The status subresource; guarded by body.metadata.resourceVersion when it has one. */
  replaceStatus(body: Named): Promise<T> {
    const name = body.metadata?.name ?? '';
    return this.call('replaceStatus', name, () => this.api.replaceClusterCustomObjectStatus({ ...this.resource, name, body }));
  }

  /** A JSON merge patch (client-node's default would be a JSON Patch). */
  mergePatch(name: string, body: object): Promise<T> {
    return this.call('mergePatch', name, () => this.api.patchClusterCustomObject({ ...this.resource, name, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)));
  }

  /** Deletes that very object (preconditions); with goneIsFine an object already gone is not an error. */
  async delete(name: string, preconditions: { uid?: string; resourceVersion?: string }, opts: { goneIsFine?: boolean } = {}): Promise<void> {
    try {
      await this.api.deleteClusterCustomObject({ ...this.resource, name, body: { preconditions } });
    } catch (e) {
      if (opts.goneIsFine && httpStatus(e) === 404) return;
      throw this.mapError(e, 'delete', name);
    }
  }

  private async call(op: CustomObjectOp, name: string, request: () => Promise<unknown>): Promise<T> {
    try {
      return (await request()) as T;
    } catch (e) {
      throw this.mapError(e, op, name);
    }
  }
}
