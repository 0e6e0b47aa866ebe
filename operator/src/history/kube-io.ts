// IPAMHistory reads and writes against the apiserver. Replace names the resourceVersion it was
// computed from: two writers (a leadership hand-over) never lose each other's holders; the loser
// gets an error, the controller retries from a fresh read.
import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { HISTORY_GROUP, HISTORY_VERSION, IPAMHISTORY_PLURAL, type IPAMHistory } from './record.js';

export interface HistoryIO {
  get(name: string): Promise<IPAMHistory | undefined>;
  create(h: IPAMHistory): Promise<void>;
  /** Guarded by h.metadata.resourceVersion. */
  replace(h: IPAMHistory): Promise<void>;
}

const base = { group: HISTORY_GROUP, version: HISTORY_VERSION, plural: IPAMHISTORY_PLURAL };

export class KubeHistoryIO implements HistoryIO {
  private readonly api: CustomObjectsApi;
  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  async get(name: string): Promise<IPAMHistory | undefined> {
    try {
      return (await this.api.getClusterCustomObject({ ...base, name })) as IPAMHistory;
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return undefined;
      throw failed(e, name, 'read');
    }
  }

  async create(h: IPAMHistory): Promise<void> {
    try {
      await this.api.createClusterCustomObject({ ...base, body: h });
    } catch (e) {
      throw failed(e, h.metadata.name ?? '', 'create');
    }
  }

  async replace(h: IPAMHistory): Promise<void> {
    try {
      await this.api.replaceClusterCustomObject({ ...base, name: h.metadata.name ?? '', body: h });
    } catch (e) {
      throw failed(e, h.metadata.name ?? '', 'replace');
    }
  }
}

function failed(e: unknown, name: string, op: string): Error {
  const detail = e instanceof ApiException ? `HTTP ${e.code}: ${String(e.body).slice(0, 300)}` : e instanceof Error ? e.message : String(e);
  return new Error(`IPAMHistory ${name}: ${op} failed: ${detail}`, { cause: e });
}
