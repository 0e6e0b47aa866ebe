// IPAMHistory reads and writes against the apiserver. Replace names the resourceVersion it was
// computed from: two writers (a leadership hand-over) never lose each other's holders; the loser
// gets an error, the controller retries from a fresh read.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { ClusterCustomObjects, apiFailure } from '../framework/cluster-custom-objects.js';
import { HISTORY_GROUP, HISTORY_VERSION, IPAMHISTORY_PLURAL, type IPAMHistory } from './record.js';

export interface HistoryIO {
  get(name: string): Promise<IPAMHistory | undefined>;
  create(h: IPAMHistory): Promise<void>;
  /** Guarded by h.metadata.resourceVersion. */
  replace(h: IPAMHistory): Promise<void>;
}

export class KubeHistoryIO implements HistoryIO {
  private readonly histories: ClusterCustomObjects<IPAMHistory>;
  constructor(kc: KubeConfig) {
    this.histories = new ClusterCustomObjects(
      kc.makeApiClient(CustomObjectsApi),
      { group: HISTORY_GROUP, version: HISTORY_VERSION, plural: IPAMHISTORY_PLURAL },
      (e, op, name) => apiFailure(`IPAMHistory ${name}`, op === 'get' ? 'read' : op, e),
    );
  }

  get(name: string): Promise<IPAMHistory | undefined> {
    return this.histories.get(name);
  }

  async create(h: IPAMHistory): Promise<void> {
    await this.histories.create(h);
  }

  async replace(h: IPAMHistory): Promise<void> {
    await this.histories.replace(h);
  }
}
