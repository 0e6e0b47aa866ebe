// Where an address's record lives: the IPAMBlock of its pool covering the aligned 256-address range
// that contains it (ADR 0005). Aligned by address, not by offset into the pool, so editing a pool's
// spec.ips never moves a record to another block.
import { createHash } from 'node:crypto';
import { BLOCK_SIZE } from '../api/internal/ipamblock.js';
import { type IPFamily, formatIP, parseIP } from '../core/ip/index.js';

export interface BlockRef {
  /** metadata.name of the IPAMBlock. */
  name: string;
  pool: string;
  /** "10.6.1.0/24" or "fd00::100/120". */
  cidr: string;
}

export interface BlockSlot {
  block: BlockRef;
  /** The address's offset inside the block, 0..255: the key of its entry. */
  offset: number;
}

const LOW_MASK = BigInt(BLOCK_SIZE - 1);
const MAX_NAME = 253;

/** The block and slot of `ip` (canonical text) in `pool`. */
export function slotOf(pool: string, family: IPFamily, ip: string): BlockSlot {
  const value = parseIP(ip, { family }).value;
  const start = value & ~LOW_MASK;
  const cidr = `${formatIP(family, start)}/${family === 4 ? 24 : 120}`;
  return { block: { name: blockName(pool, family, start), pool, cidr }, offset: Number(value & LOW_MASK) };
}

/** The address at `offset` of the block `cidr`. */
export function addressAt(family: IPFamily, cidr: string, offset: number): string {
  const start = parseIP(cidr.slice(0, cidr.indexOf('/')), { family }).value;
  return formatIP(family, start + BigInt(offset));
}

/**
 * `<pool>-<start as fixed-width hex>`: 8 hex digits for IPv4, 32 for IPv6. The suffix has a fixed
 * width and no '-', so two pools never share a block name. A pool name too long for the suffix is cut
 * and made unique again with a hash of the full name (spec.pool still holds the full name).
 */
export function blockName(pool: string, family: IPFamily, start: bigint): string {
  const hex = start.toString(16).padStart(family === 4 ? 8 : 32, '0');
  if (pool.length + 1 + hex.length <= MAX_NAME) return `${pool}-${hex}`;
  const digest = createHash('sha256').update(pool).digest('hex').slice(0, 12);
  const keep = MAX_NAME - hex.length - digest.length - 2;
  return `${pool.slice(0, keep).replace(/[-.]+$/, '')}-${digest}-${hex}`;
}

/**
 * Value of the pool label on a block. Label values are at most 63 characters, so a longer pool name
 * is cut; readers always check spec.pool, the label only narrows a list.
 */
export function poolLabelValue(pool: string): string {
  return pool.length <= 63 ? pool : pool.slice(0, 63).replace(/[-_.]+$/, '');
}
