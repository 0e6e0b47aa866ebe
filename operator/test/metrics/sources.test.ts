// The operator's scrape-time sources over fakes of its parts: leadership, queues, the GC's backlog
// (its controller's waiting + delayed keys), committer totals, and pool counts only while serving.
import { GC_CONTROLLER } from '../../src/gc/gc-controller.js';
import { type OperatorParts, operatorSources } from '../../src/metrics/sources.js';

function parts(opts: { leading: boolean; stats: { name: string; depth: number; delayed: number }[]; state?: object }): OperatorParts {
  const state = opts.state && { counts: (n: string) => (n === 'a' ? { allocated: 1, total: 4n, free: 3n } : undefined) };
  return {
    manager: { leaderElector: { isLeader: () => opts.leading }, controllerStats: () => opts.stats },
    committer: { stats: () => ({ writes: 3, conflicts: 1, mutations: 5, failedBatches: 0 }) },
    service: { poolState: state },
    pools: { list: () => [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }] },
  } as unknown as OperatorParts;
}

test('leadership, queues, GC backlog, committer totals and pool counts', () => {
  const s = operatorSources(parts({ leading: true, stats: [{ name: 'ippool-status', depth: 2, delayed: 9 }, { name: GC_CONTROLLER, depth: 3, delayed: 4 }], state: {} }));
  expect(s.leader!()).toBe(true);
  expect(s.controllers!().map((c) => [c.name, c.depth])).toEqual([['ippool-status', 2], [GC_CONTROLLER, 3]]);
  expect(s.gcBacklog!()).toBe(7);
  expect(s.committer!()).toMatchObject({ writes: 3, conflicts: 1, failedBatches: 0 });
  const pools = s.pools!()!;
  expect(pools.names).toEqual(['a', 'b']);
  expect(pools.counts('a')).toEqual({ allocated: 1, total: 4n, free: 3n });
  expect(pools.counts('b')).toBeUndefined();
});

test('a follower without allocator state exports no pools; no GC controller, no backlog', () => {
  const s = operatorSources(parts({ leading: false, stats: [{ name: 'ippool-status', depth: 0, delayed: 0 }] }));
  expect(s.leader!()).toBe(false);
  expect(s.pools!()).toBeUndefined();
  expect(s.gcBacklog!()).toBeUndefined();
});
