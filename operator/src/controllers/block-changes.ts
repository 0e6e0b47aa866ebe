// Which pods a block change concerns. One allocation rewrites one entry of a block that holds up to
// 256; enqueueing every pod of the block (informerSource with podKeysOfBlock) made the SpiderEndpoint
// controller reconcile ~256 pods — each scanning the block's 256 entries — per allocation: the
// operator's largest CPU cost of our own in the seed benchmark (docs/benchmark.md). A pod's endpoint
// depends only on the entries naming it (and the block's pool and cidr), so only the pods whose
// entries appeared, changed or disappeared are enqueued.
import type { IPAMBlock } from '../api/internal/ipamblock.js';
import { decodeEntry } from '../api/internal/ipamblock.js';
import type { Source } from '../framework/controller.js';
import type { Informer } from '../framework/informer.js';
import { type BlockObject, podKeysOfBlock } from './informers.js';

const podOf = (text: string | undefined): string | undefined => {
  if (text === undefined) return undefined;
  const e = decodeEntry(text);
  return e instanceof Error ? undefined : e.pod;
};

/** Pod keys whose entries differ between two versions of one block (all of both when pool or cidr moved). */
export function changedPodKeys(before: IPAMBlock, after: IPAMBlock): string[] {
  if (before.spec?.pool !== after.spec?.pool || before.spec?.cidr !== after.spec?.cidr) {
    return [...new Set([...podKeysOfBlock(before), ...podKeysOfBlock(after)])];
  }
  const a = before.spec?.allocations ?? {};
  const b = after.spec?.allocations ?? {};
  if (a === b) return [];
  const keys = new Set<string>();
  const add = (text: string | undefined) => {
    const pod = podOf(text);
    if (pod !== undefined) keys.add(pod);
  };
  for (const [offset, text] of Object.entries(b)) {
    if (a[offset] === text) continue;
    add(text);
    add(a[offset]);
  }
  for (const [offset, text] of Object.entries(a)) if (!(offset in b)) add(text);
  return [...keys];
}

/** The blocks as a controller source keyed by pod: adds and deletes name every pod, updates only the changed ones. */
export function blockPodSource(blocks: Informer<BlockObject>): Source {
  return {
    subscribe(enqueue) {
      const each = (keys: string[]) => {
        for (const k of keys) enqueue(k);
      };
      return blocks.addEventHandler({
        add: (b) => each(podKeysOfBlock(b)),
        // the same object again is a resync: everything it names
        update: (before, after) => each(before === after ? podKeysOfBlock(after) : changedPodKeys(before, after)),
        delete: (b) => each(podKeysOfBlock(b)),
      });
    },
    keys: () => [...new Set(blocks.list().flatMap(podKeysOfBlock))],
    hasSynced: () => blocks.hasSynced(),
  };
}
