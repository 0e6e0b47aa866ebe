// A leadership term starts here: list every IPAMBlock and build the pool state from the pools and
// reserved IPs in the caches, nothing from memory. The committer is told what each block looks like
// now (and that the blocks not listed do not exist), so the term's first writes need no extra read.
import type { SpiderIPPool, SpiderReservedIP } from '../api/v2beta1/types.js';
import type { Logger } from '../framework/logger.js';
import type { BlockIO } from './block-client.js';
import type { BlockCommitter } from './block-committer.js';
import { slotOf } from './block-layout.js';
import { PoolState } from './pool-state.js';

export async function rebuildState(
  io: BlockIO,
  committer: BlockCommitter,
  pools: readonly SpiderIPPool[],
  reserved: readonly SpiderReservedIP[],
  log: Logger,
): Promise<PoolState> {
  const started = Date.now();
  const blocks = await io.list();
  committer.reset();
  for (const b of blocks) {
    const family = b.spec.cidr.includes(':') ? 6 : 4;
    const ref = slotOf(b.spec.pool, family, b.spec.cidr.split('/')[0]!).block;
    if (ref.name === b.metadata.name) committer.seed(ref, b);
  }
  // A block not in the list does not exist: the first allocation in it creates it without a GET.
  committer.markListed();
  const { state, problems } = PoolState.rebuild(pools, reserved, blocks);
  for (const p of problems) log.warn('allocation state problem', { pool: p.pool, problem: p.message });
  log.info('allocation state rebuilt', { pools: pools.length, blocks: blocks.length, problems: problems.length, ms: Date.now() - started });
  return state;
}
