// Group commit over an in-memory store with the apiserver's CAS rules: batching, conflict
// re-validation, seq-guarded release, create/delete at the edges, bounded retries.
import { decodeEntry, encodeEntry, type BlockEntry } from '../../src/api/internal/ipamblock.js';
import { applyBatch, BlockCommitter, type Mutation } from '../../src/service/block-committer.js';
import { slotOf } from '../../src/service/block-layout.js';
import { MemoryBlockIO } from './memory-block-io.js';

const ref = slotOf('pool-a', 4, '10.0.1.7').block;
const alloc = (offset: number, uid: string): Mutation => ({ op: 'allocate', offset, entry: { uid, pod: `ns/${uid}`, nic: 'eth0' } });
const noSleep = async () => {};

describe('BlockCommitter', () => {
  it('sends mutations submitted while a write is in flight together in the next write', async () => {
    const io = new MemoryBlockIO();
    const c = new BlockCommitter(io, { sleep: noSleep });
    const first = c.submit(ref, 'u1', alloc(1, 'p1'));
    // Same tick: joins the first write.
    const second = c.submit(ref, 'u1', alloc(2, 'p2'));
    // A later microtask of the same event-loop turn (callers woken by one event arrive like this):
    // still joins the first write, which waits for the end of the turn.
    await Promise.resolve();
    await Promise.resolve();
    const third = c.submit(ref, 'u1', alloc(3, 'p3'));
    // Submitted while the first write is in flight: all go out together in the second.
    let later: Promise<unknown>[] = [];
    io.beforeWrite = (op) => {
      if (op === 'create') later = Array.from({ length: 50 }, (_, i) => c.submit(ref, 'u1', alloc(10 + i, `q${i}`)));
    };
    await Promise.all([first, second, third]);
    const outcomes = await Promise.all([first, second, third, ...later]);
    expect(later).toHaveLength(50);
    expect(outcomes.every((o) => (o as { ok: boolean }).ok)).toBe(true);
    expect(io.calls.filter((x) => !x.startsWith('get'))).toEqual([`create ${ref.name}`, `replace ${ref.name}`]);
    expect(c.stats()).toMatchObject({ writes: 2, mutations: 53, conflicts: 0 });
    const block = io.blocks.get(ref.name)!;
    expect(block.spec.allocated).toBe(53);
    expect(new Set(Object.values(block.spec.allocations).map((e) => (decodeEntry(e) as BlockEntry).seq)).size).toBe(53);
  });

  it('re-reads on conflict and fails only the mutation whose address another writer took', async () => {
    const io = new MemoryBlockIO();
    const c = new BlockCommitter(io, { sleep: noSleep });
    await c.submit(ref, 'u1', alloc(1, 'p1'));
    io.beforeWrite = () => {
      io.beforeWrite = undefined;
      const b = structuredClone(io.blocks.get(ref.name)!);
      b.spec.allocations['3'] = encodeEntry({ uid: 'other', pod: 'ns/other', nic: 'eth0', seq: 99 });
      b.spec.seq = 99;
      io.store(b);
    };
    const [a, b] = await Promise.all([c.submit(ref, 'u1', alloc(2, 'p2')), c.submit(ref, 'u1', alloc(3, 'p3'))]);
    expect(a).toMatchObject({ ok: true, entry: { uid: 'p2', seq: 100 } });
    expect(b).toMatchObject({ ok: false, reason: 'taken', holder: { uid: 'other' } });
    expect(c.stats().conflicts).toBe(1);
    expect(decodeEntry(io.blocks.get(ref.name)!.spec.allocations['3']!)).toMatchObject({ uid: 'other' });
  });

  it('releases only on a (uid, seq) match and deletes the block with its last entry', async () => {
    const io = new MemoryBlockIO();
    const c = new BlockCommitter(io, { sleep: noSleep });
    const got = await c.submit(ref, 'u1', alloc(5, 'p1'));
    if (!got.ok) throw new Error('allocate failed');
    expect(await c.submit(ref, 'u1', { op: 'release', offset: 5, uid: 'p1', seq: got.entry.seq + 1 })).toMatchObject({ ok: false, reason: 'not-held' });
    expect(await c.submit(ref, 'u1', { op: 'release', offset: 5, uid: 'p2', seq: got.entry.seq })).toMatchObject({ ok: false, reason: 'not-held' });
    expect(io.blocks.has(ref.name)).toBe(true);
    expect(await c.submit(ref, 'u1', { op: 'release', offset: 5, uid: 'p1', seq: got.entry.seq })).toMatchObject({ ok: true });
    expect(io.blocks.has(ref.name)).toBe(false);
    // Created again on the next allocation.
    expect(await c.submit(ref, 'u1', alloc(5, 'p3'))).toMatchObject({ ok: true });
  });

  it('treats AlreadyExists on create as a conflict', async () => {
    const io = new MemoryBlockIO();
    const c = new BlockCommitter(io, { sleep: noSleep });
    c.seed(ref, null);
    io.beforeWrite = () => {
      io.beforeWrite = undefined;
      io.store(applyBatch(null, ref, 'u1', [alloc(9, 'rival')]).next);
    };
    expect(await c.submit(ref, 'u1', alloc(9, 'p1'))).toMatchObject({ ok: false, reason: 'taken' });
    expect(await c.submit(ref, 'u1', alloc(8, 'p1'))).toMatchObject({ ok: true });
  });

  it('after markListed, an unseeded block is created without a read; a rival create is still caught', async () => {
    const io = new MemoryBlockIO();
    const c = new BlockCommitter(io, { sleep: noSleep });
    c.markListed();
    expect(await c.submit(ref, 'u1', alloc(1, 'p1'))).toMatchObject({ ok: true });
    expect(io.calls).toEqual([`create ${ref.name}`]);
    // Another block appears behind our back (a stale leader): the create conflicts, we re-read, retry.
    const other = slotOf('pool-a', 4, '10.0.2.7').block;
    io.beforeWrite = () => {
      io.beforeWrite = undefined;
      io.store(applyBatch(null, other, 'u1', [alloc(7, 'rival')]).next);
    };
    expect(await c.submit(other, 'u1', alloc(7, 'p2'))).toMatchObject({ ok: false, reason: 'taken', holder: { uid: 'rival' } });
    expect(await c.submit(other, 'u1', alloc(8, 'p2'))).toMatchObject({ ok: true });
    expect(io.calls.slice(1)).toEqual([`create ${other.name}`, `get ${other.name}`, `replace ${other.name}`]);
    // reset() (leadership lost) forgets the list: the next first write reads again.
    c.reset();
    const third = slotOf('pool-a', 4, '10.0.3.7').block;
    await c.submit(third, 'u1', alloc(1, 'p3'));
    expect(io.calls.slice(4)).toEqual([`get ${third.name}`, `create ${third.name}`]);
  });

  it('fails the batch with the block named after bounded retries', async () => {
    const io = new MemoryBlockIO();
    const c = new BlockCommitter(io, { sleep: noSleep, maxAttempts: 3 });
    await c.submit(ref, 'u1', alloc(1, 'p1'));
    io.beforeWrite = (_op, name) => io.store(io.blocks.get(name)!);
    await expect(c.submit(ref, 'u1', alloc(2, 'p2'))).rejects.toThrow(`IPAMBlock ${ref.name}: still conflicting after 3 attempts`);
    io.beforeWrite = undefined;
    expect(await c.submit(ref, 'u1', alloc(2, 'p2'))).toMatchObject({ ok: true });
  });

  it('encodes entries compactly and decodes them back, refusing malformed ones with the format', () => {
    const e: BlockEntry = { uid: 'u-1', seq: 7, pod: 'ns/web-0', nic: 'net1', cid: 'abc', node: 'n1', at: '2026-11-21T19:00:00Z', ok: 'StatefulSet/web', net: 'mac vlan/1' };
    expect(encodeEntry(e)).toBe('u-1 7 ns/web-0 net1 abc n1 2026-11-21T19:00:00Z StatefulSet/web mac%20vlan%2F1');
    expect(decodeEntry(encodeEntry(e))).toEqual(e);
    expect(decodeEntry(encodeEntry({ uid: 'u', seq: 1, pod: 'a/b', nic: 'eth0' }))).toEqual({ uid: 'u', seq: 1, pod: 'a/b', nic: 'eth0' });
    expect(decodeEntry('u 0 a/b eth0 - - - - -')).toBeInstanceOf(Error);
    expect(String(decodeEntry('garbage'))).toMatch(/expected "<uid> <seq>/);
  });

  it('an allocate of a slot the same pod interface already holds is done, not taken', () => {
    const { next } = applyBatch(null, ref, 'u1', [alloc(4, 'p1')]);
    const again = applyBatch(next, ref, 'u1', [alloc(4, 'p1')]);
    expect(again.changed).toBe(false);
    expect(again.outcomes[0]).toMatchObject({ ok: true, entry: { uid: 'p1', seq: 1 } });
  });
});

describe('BlockCommitter refuses entries that would corrupt the block', () => {
  it('rejects an entry with whitespace in a field alone; the rest of the batch is written', async () => {
    const io = new MemoryBlockIO();
    const c = new BlockCommitter(io, { sleep: noSleep });
    const good = c.submit(ref, 'u1', alloc(1, 'p1'));
    const bad = c.submit(ref, 'u1', { op: 'allocate', offset: 2, entry: { uid: 'p2', pod: 'ns/p2', nic: 'eth 0' } });
    await expect(bad).rejects.toThrow(/nic "eth 0" contains whitespace/);
    await expect(good).resolves.toMatchObject({ ok: true });
    const block = io.blocks.get(ref.name)!;
    expect(Object.keys(block.spec.allocations)).toEqual(['1']);
    expect(Object.values(block.spec.allocations).every((e) => !(decodeEntry(e) instanceof Error))).toBe(true);
  });
});
