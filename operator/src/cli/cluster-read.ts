// What the kubectl-spiderpool commands read from the API: pools, one pool's blocks and holders, one
// block and its history by name. Decoding of block entries is the API types' (ipamblock.ts); the
// address of a slot is block-layout's, so the CLI and the operator can never disagree about layout.
import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { type BlockEntry, IPAM_GROUP, IPAM_VERSION, IPAMBLOCK_PLURAL, type IPAMBlock, LABEL_BLOCK_POOL, blockEntries } from '../api/internal/ipamblock.js';
import { GROUP, PLURALS, VERSION, type SpiderIPPool } from '../api/v2beta1/types.js';
import { HISTORY_GROUP, HISTORY_VERSION, IPAMHISTORY_PLURAL, type IPAMHistory } from '../history/record.js';
import { addressAt, poolLabelValue } from '../service/block-layout.js';

/** One held address, decoded from its block. */
export interface HeldAddress {
  ip: string;
  pool: string;
  block: string;
  offset: number;
  entry: BlockEntry;
}

export class ClusterRead {
  private readonly api: CustomObjectsApi;
  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  async pools(): Promise<SpiderIPPool[]> {
    const out: SpiderIPPool[] = [];
    let cont: string | undefined;
    do {
      const page = (await this.api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURALS.SpiderIPPool, limit: 500, ...(cont ? { _continue: cont } : {}) })) as {
        items: SpiderIPPool[];
        metadata?: { continue?: string };
      };
      out.push(...page.items);
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return out.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  }

  async pool(name: string): Promise<SpiderIPPool | undefined> {
    return this.getOrUndefined(() => this.api.getClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURALS.SpiderIPPool, name }) as Promise<SpiderIPPool>);
  }

  /** The pool's blocks (label-selected, then checked on spec.pool: the label may be cut). */
  async blocksOf(pool: string): Promise<IPAMBlock[]> {
    const list = (await this.api.listClusterCustomObject({ group: IPAM_GROUP, version: IPAM_VERSION, plural: IPAMBLOCK_PLURAL, labelSelector: `${LABEL_BLOCK_POOL}=${poolLabelValue(pool)}` })) as { items: IPAMBlock[] };
    return list.items.filter((b) => b.spec.pool === pool);
  }

  async block(name: string): Promise<IPAMBlock | undefined> {
    return this.getOrUndefined(() => this.api.getClusterCustomObject({ group: IPAM_GROUP, version: IPAM_VERSION, plural: IPAMBLOCK_PLURAL, name }) as Promise<IPAMBlock>);
  }

  /** The block's history; undefined when none was written (or the IPAMHistory CRD is not installed). */
  async history(name: string): Promise<IPAMHistory | undefined> {
    return this.getOrUndefined(() => this.api.getClusterCustomObject({ group: HISTORY_GROUP, version: HISTORY_VERSION, plural: IPAMHISTORY_PLURAL, name }) as Promise<IPAMHistory>);
  }

  private async getOrUndefined<T>(get: () => Promise<T>): Promise<T | undefined> {
    try {
      return await get();
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return undefined;
      throw e;
    }
  }
}

/** Every decodable entry of the blocks as an address; malformed entries are counted, not thrown. */
export function heldAddresses(blocks: readonly IPAMBlock[]): { held: HeldAddress[]; malformed: string[] } {
  const held: HeldAddress[] = [];
  const malformed: string[] = [];
  for (const b of blocks) {
    const family = b.spec.cidr.includes(':') ? 6 : 4;
    for (const { offset, entry } of blockEntries(b)) {
      if (entry instanceof Error) {
        malformed.push(entry.message);
        continue;
      }
      held.push({ ip: addressAt(family, b.spec.cidr, offset), pool: b.spec.pool, block: b.metadata.name ?? '', offset, entry });
    }
  }
  return { held, malformed };
}

/** An API error as one line: the HTTP code and the apiserver's message, not the whole body. */
export function apiErrorText(e: unknown): string {
  if (e instanceof ApiException) {
    let msg = String(e.body);
    try {
      msg = (JSON.parse(msg) as { message?: string }).message ?? msg;
    } catch {
      /* not JSON */
    }
    return `HTTP ${e.code}: ${msg.slice(0, 300)}`;
  }
  return e instanceof Error ? e.message : String(e);
}
