// An in-memory BlockIO with the apiserver's compare-and-swap semantics (resourceVersion per write,
// AlreadyExists on create, precondition on delete), for unit tests of the group commit logic.
import type { IPAMBlock } from '../../src/api/internal/ipamblock.js';
import { BlockConflict, type BlockIO } from '../../src/service/block-client.js';

export class MemoryBlockIO implements BlockIO {
  readonly blocks = new Map<string, IPAMBlock>();
  readonly calls: string[] = [];
  private rv = 0;
  /** Runs before each write; lets a test change the block behind the committer's back. */
  beforeWrite: ((op: string, name: string) => void) | undefined;

  async get(name: string): Promise<IPAMBlock | undefined> {
    this.calls.push(`get ${name}`);
    const b = this.blocks.get(name);
    return b && structuredClone(b);
  }

  async create(block: IPAMBlock): Promise<IPAMBlock> {
    const name = block.metadata.name!;
    this.calls.push(`create ${name}`);
    this.beforeWrite?.('create', name);
    if (this.blocks.has(name)) throw new BlockConflict(name, 'create');
    return this.store(block);
  }

  async replace(block: IPAMBlock): Promise<IPAMBlock> {
    const name = block.metadata.name!;
    this.calls.push(`replace ${name}`);
    this.beforeWrite?.('replace', name);
    const cur = this.blocks.get(name);
    if (cur === undefined || cur.metadata.resourceVersion !== block.metadata.resourceVersion) throw new BlockConflict(name, 'replace');
    return this.store(block);
  }

  async delete(name: string, resourceVersion: string): Promise<void> {
    this.calls.push(`delete ${name}`);
    this.beforeWrite?.('delete', name);
    const cur = this.blocks.get(name);
    if (cur === undefined || cur.metadata.resourceVersion !== resourceVersion) throw new BlockConflict(name, 'delete');
    this.blocks.delete(name);
  }

  async list(): Promise<IPAMBlock[]> {
    return [...this.blocks.values()].map((b) => structuredClone(b));
  }

  /** Writes directly, as another operator would. */
  store(block: IPAMBlock): IPAMBlock {
    const saved = structuredClone({ ...block, metadata: { ...block.metadata, resourceVersion: String(++this.rv) } });
    this.blocks.set(saved.metadata.name!, saved);
    return structuredClone(saved);
  }
}
