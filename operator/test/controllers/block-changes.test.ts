// The SpiderEndpoint controller's block source: a block update enqueues only the pods whose entries
// appeared, changed or disappeared (not every pod of the block); adds, deletes and resyncs name all.
import type { EventHandler } from '../../src/framework/informer.js';
import { blockPodSource, changedPodKeys } from '../../src/controllers/block-changes.js';
import type { BlockObject } from '../../src/controllers/informers.js';
import type { Informer } from '../../src/framework/informer.js';
import { blocks } from './fixtures.js';

const web = Array.from({ length: 200 }, (_, i) => ({ ip: `10.6.0.${i + 1}`, pod: `ns/web-${i}`, uid: `u${i}` }));
const one = (allocs: Parameters<typeof blocks>[1]): BlockObject => {
  const bs = blocks('v4', allocs);
  expect(bs).toHaveLength(1);
  return bs[0]! as BlockObject;
};

describe('changedPodKeys', () => {
  it('one allocation added to a block of 200 concerns one pod', () => {
    const before = one(web);
    const after = one([...web, { ip: '10.6.0.250', pod: 'ns/new', uid: 'n1' }]);
    expect(changedPodKeys(before, after)).toEqual(['ns/new']);
  });

  it('a released entry concerns its pod; an entry taken over by another pod concerns both', () => {
    const before = one(web);
    const offset = (pod: string) => Object.entries(before.spec.allocations).find(([, t]) => t.includes(` ${pod} `))![0];
    const released: BlockObject = { ...before, spec: { ...before.spec, allocations: { ...before.spec.allocations } } };
    delete released.spec.allocations[offset('ns/web-7')];
    expect(changedPodKeys(before, released)).toEqual(['ns/web-7']);
    const other = one([{ ip: '10.6.0.10', pod: 'ns/other', uid: 'o1' }]); // web-9's address
    const reused: BlockObject = { ...before, spec: { ...before.spec, allocations: { ...before.spec.allocations, [offset('ns/web-9')]: Object.values(other.spec.allocations)[0]! } } };
    expect(changedPodKeys(before, reused).sort()).toEqual(['ns/other', 'ns/web-9']);
  });

  it('the same allocations (a status-only or metadata change) concern nobody', () => {
    const before = one(web);
    const after: BlockObject = { ...before, metadata: { ...before.metadata, resourceVersion: '2' }, spec: { ...before.spec, allocations: { ...before.spec.allocations } } };
    expect(changedPodKeys(before, after)).toEqual([]);
  });

  it('a block moved to another pool or cidr concerns every pod of both versions', () => {
    const before = one(web.slice(0, 3));
    const after: BlockObject = { ...before, spec: { ...before.spec, pool: 'v4-renamed' } };
    expect(changedPodKeys(before, after).sort()).toEqual(['ns/web-0', 'ns/web-1', 'ns/web-2']);
  });
});

describe('blockPodSource', () => {
  function fakeInformer(objs: BlockObject[]): { inf: Informer<BlockObject>; handler: () => EventHandler<BlockObject> } {
    let h: EventHandler<BlockObject> | undefined;
    const inf = {
      addEventHandler: (x: EventHandler<BlockObject>) => {
        h = x;
        return () => undefined;
      },
      list: () => objs,
      hasSynced: () => true,
    } as unknown as Informer<BlockObject>;
    return { inf, handler: () => h! };
  }

  it('update enqueues the changed pods only; add, delete and resync enqueue every pod of the block', () => {
    const before = one(web);
    const after = one([...web, { ip: '10.6.0.250', pod: 'ns/new', uid: 'n1' }]);
    const { inf, handler } = fakeInformer([after]);
    const src = blockPodSource(inf);
    const queued: string[] = [];
    src.subscribe((k) => queued.push(k));
    handler().update!(before, after);
    expect(queued).toEqual(['ns/new']);
    queued.length = 0;
    handler().update!(after, after);
    expect(queued).toHaveLength(201);
    queued.length = 0;
    handler().add!(before);
    expect(queued).toHaveLength(200);
    queued.length = 0;
    handler().delete!(after);
    expect(queued).toHaveLength(201);
    expect(src.keys()).toHaveLength(201);
  });
});
