// The per-address history merge (ADR 0011): holder lines round-trip, the current entry is open, a
// replaced holder is closed at the time the watch saw it go, short-lived holders observed between
// writes are kept, newest first, bounded by depth, unchanged slots are not rewritten.
import type { BlockEntry } from '../../src/api/internal/ipamblock.js';
import { decodeHolders, encodeHolder, mergeHistory, mergeSlot, type Holder } from '../../src/history/record.js';

const entry = (uid: string, seq: number, at: string, extra: Partial<BlockEntry> = {}): BlockEntry => ({ uid, seq, pod: `ns/${uid}`, nic: 'eth0', node: 'n1', cid: `c-${uid}`, at, ...extra });
const T = (m: number) => `2026-11-21T10:${String(m).padStart(2, '0')}:00Z`;

describe('holder lines', () => {
  it('round-trip, absent fields as "-"', () => {
    const h: Holder = { uid: 'u1', seq: 3, pod: 'ns/a', nic: 'net1', since: T(1), until: T(2) };
    expect(encodeHolder(h)).toBe(`u1 3 ns/a net1 - - ${T(1)} ${T(2)}`);
    expect(decodeHolders(`${encodeHolder(h)}\ngarbage line\n`)).toEqual({ holders: [h], bad: 1 });
  });
});

describe('mergeSlot', () => {
  it('opens the current entry with its recording time as since', () => {
    expect(mergeSlot([], [], entry('a', 1, T(1)), T(5), 5)).toEqual([{ uid: 'a', seq: 1, pod: 'ns/a', nic: 'eth0', node: 'n1', cid: 'c-a', since: T(1) }]);
  });

  it('closes a holder that is no longer current at the time the watch saw it go, else now', () => {
    const open = mergeSlot([], [], entry('a', 1, T(1)), T(1), 5);
    const observedGone = [{ ...open[0]!, until: T(3) }];
    const next = mergeSlot(open, observedGone, entry('b', 2, T(4)), T(9), 5);
    expect(next.map((h) => [h.uid, h.since, h.until])).toEqual([['b', T(4), undefined], ['a', T(1), T(3)]]);
    // no observation (operator restarted meanwhile): closed at now
    expect(mergeSlot(open, [], undefined, T(9), 5)[0]!.until).toBe(T(9));
  });

  it('keeps a holder that came and went between two writes', () => {
    const shortLived: Holder = { uid: 'x', seq: 2, pod: 'ns/x', nic: 'eth0', since: T(2), until: T(3) };
    const next = mergeSlot([{ uid: 'a', seq: 1, pod: 'ns/a', nic: 'eth0', since: T(1), until: T(2) }], [shortLived], entry('b', 3, T(4)), T(5), 5);
    expect(next.map((h) => h.uid)).toEqual(['b', 'x', 'a']);
  });

  it('a re-ADD of the same holder (same uid and seq) updates its container, stays one line', () => {
    const open = mergeSlot([], [], entry('a', 1, T(1)), T(1), 5);
    const next = mergeSlot(open, [], entry('a', 1, T(1), { cid: 'c-new' }), T(2), 5);
    expect(next).toHaveLength(1);
    expect(next[0]).toMatchObject({ cid: 'c-new' });
    expect(next[0]!.until).toBeUndefined();
  });

  it('keeps the depth most recent', () => {
    let h: Holder[] = [];
    for (let i = 1; i <= 9; i++) h = mergeSlot(h, [], entry(`p${i}`, i, T(i)), T(i), 3);
    expect(h.map((x) => x.uid)).toEqual(['p9', 'p8', 'p7']);
  });
});

describe('mergeHistory', () => {
  it('writes only the slots that change; an unchanged block is 0 changes', () => {
    const entries = new Map([[10, entry('a', 1, T(1))], [11, entry('b', 2, T(1))]]);
    const first = mergeHistory({}, entries, new Map(), new Date(T(1)), 5);
    expect(first.changed).toBe(2);
    expect(Object.keys(first.holders).sort()).toEqual(['10', '11']);
    expect(mergeHistory(first.holders, entries, new Map(), new Date(T(2)), 5).changed).toBe(0);
    const released = mergeHistory(first.holders, new Map([[10, entry('a', 1, T(1))]]), new Map(), new Date(T(3)), 5);
    expect(released.changed).toBe(1);
    expect(released.holders['11']).toBe(`b 2 ns/b eth0 n1 c-b ${T(1)} ${T(3)}`);
  });
});

describe('coalescing', () => {
  it('records of one pod incarnation next to each other are one holder from the earliest since', () => {
    let h: Holder[] = [];
    h = mergeSlot(h, [], entry('a', 1, T(1)), T(1), 5);
    h = mergeSlot(h, [], undefined, T(2), 5);
    h = mergeSlot(h, [], entry('a', 3, T(3)), T(3), 5);
    expect(h).toEqual([{ uid: 'a', seq: 3, pod: 'ns/a', nic: 'eth0', node: 'n1', cid: 'c-a', since: T(1) }]);
    // and it stays one open holder on the next pass (the current entry matches the newest record)
    expect(mergeSlot(h, [], entry('a', 3, T(3)), T(4), 5)).toEqual(h);
    // another pod in between keeps them apart
    h = mergeSlot(h, [], entry('b', 4, T(5)), T(5), 5);
    h = mergeSlot(h, [], entry('a', 5, T(6)), T(6), 5);
    expect(h.map((x) => x.uid)).toEqual(['a', 'b', 'a']);
  });
});
