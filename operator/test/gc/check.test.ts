// `ipam check` over hand-made snapshots (operator/src/cli/check.ts analyze) and its argument parsing.
import type { V1Pod } from '@kubernetes/client-node';
import { type IPAMBlock, encodeEntry } from '../../src/api/internal/ipamblock.js';
import type { SpiderIPPool } from '../../src/api/v2beta1/types.js';
import { type Finding, type Snapshot, analyze } from '../../src/cli/check.js';
import { describeFinding, parseArgs } from '../../src/cli/check-main.js';

const block = (pool: string, cidr: string, entries: Record<number, { uid: string; pod: string; seq: number; ok?: string }>): IPAMBlock => ({
  apiVersion: 'ipam.spiderpool-ts.io/v1alpha1',
  kind: 'IPAMBlock',
  metadata: { name: `${pool}-${cidr}` },
  spec: {
    pool,
    cidr,
    seq: 99,
    allocations: Object.fromEntries(Object.entries(entries).map(([k, e]) => [k, encodeEntry({ ...e, nic: 'eth0', node: 'n1', at: '2026-11-21T19:00:00Z' })])),
  },
});

const pod = (key: string, uid: string, extra: { phase?: string; ips?: string[]; annotated?: boolean; deleting?: boolean; sts?: string } = {}): V1Pod => {
  const [namespace, name] = key.split('/');
  return {
    metadata: {
      namespace,
      name,
      uid,
      ...(extra.annotated ? { annotations: { 'ipam.spidernet.io/ippool': '{"ipv4":["a"]}' } } : {}),
      ...(extra.deleting ? { deletionTimestamp: new Date('2026-11-21T19:30:00Z') } : {}),
      ...(extra.sts ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: extra.sts, uid: 's', controller: true }] } : {}),
    },
    spec: { nodeName: 'n1', containers: [] },
    status: { phase: extra.phase ?? 'Running', ...(extra.ips ? { podIPs: extra.ips.map((ip) => ({ ip })) } : {}) },
  };
};

const pool = (name: string, allocated?: number): SpiderIPPool => ({
  apiVersion: 'spiderpool.spidernet.io/v2beta1',
  kind: 'SpiderIPPool',
  metadata: { name },
  spec: { subnet: '10.0.0.0/16', ips: ['10.0.1.0-10.0.1.255'] },
  ...(allocated !== undefined ? { status: { allocatedIPCount: allocated } } : {}),
});

const snapshot = (over: Partial<Snapshot>): Snapshot => ({ blocks: [], pools: [], pods: [], nodes: [], endpoints: [], statefulSets: new Map(), readAtMs: Date.parse('2026-11-21T20:00:00Z'), ...over });
const kinds = (fs: Finding[]) => fs.map((f) => f.kind).sort();

describe('ipam check analyze', () => {
  it('finds nothing in a consistent cluster', () => {
    const snap = snapshot({
      blocks: [block('a', '10.0.1.0/24', { 1: { uid: 'u1', pod: 'ns/p1', seq: 1 } })],
      pools: [pool('a', 1)],
      pods: [pod('ns/p1', 'u1', { annotated: true, ips: ['10.0.1.1'] })],
      endpoints: [{ apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderEndpoint', metadata: { namespace: 'ns', name: 'p1' }, status: { current: { uid: 'u1', node: 'n1', ips: [] }, ownerControllerType: 'Pod', ownerControllerName: 'p1' } }],
    });
    expect(analyze(snap)).toEqual([]);
  });

  it('reports leaks with the GC reason, and keeps Terminating pods and StatefulSet identities', () => {
    const snap = snapshot({
      blocks: [
        block('a', '10.0.1.0/24', {
          1: { uid: 'gone', pod: 'ns/deleted', seq: 1 },
          2: { uid: 'old', pod: 'ns/renamed', seq: 2 },
          3: { uid: 'u3', pod: 'ns/done', seq: 3 },
          4: { uid: 'u4', pod: 'ns/leaving', seq: 4 },
          5: { uid: 'u5', pod: 'ns/web-0', seq: 5, ok: 'StatefulSet/web' },
          6: { uid: 'u6', pod: 'ns/web-3', seq: 6, ok: 'StatefulSet/web' },
        }),
      ],
      pools: [pool('a', 6)],
      pods: [pod('ns/renamed', 'new'), pod('ns/done', 'u3', { phase: 'Succeeded' }), pod('ns/leaving', 'u4', { deleting: true })],
      statefulSets: new Map([['ns/web', { start: 0, replicas: 2 }]]),
    });
    const leaks = analyze(snap).filter((f): f is Extract<Finding, { kind: 'leak' }> => f.kind === 'leak');
    expect(leaks.map((l) => [l.record.ip, l.reason])).toEqual([
      ['10.0.1.1', 'pod-deleted'],
      ['10.0.1.2', 'uid-mismatch'],
      ['10.0.1.3', 'pod-finished'],
      ['10.0.1.6', 'pod-deleted'],
    ]);
    expect(leaks[0]!.record).toMatchObject({ pool: 'a', pod: 'ns/deleted', uid: 'gone', seq: 1, offset: 1 });
  });

  it('reports an address recorded twice and two live pods with one IP', () => {
    const snap = snapshot({
      blocks: [block('a', '10.0.1.0/24', { 7: { uid: 'u1', pod: 'ns/p1', seq: 1 } }), block('b', '10.0.1.0/24', { 7: { uid: 'u2', pod: 'ns/p2', seq: 1 } })],
      pools: [pool('a', 1), pool('b', 1)],
      pods: [pod('ns/p1', 'u1', { ips: ['10.0.1.7'] }), pod('ns/p2', 'u2', { ips: ['10.0.1.7'] }), pod('ns/p3', 'u3', { phase: 'Failed', ips: ['10.0.1.7'] })],
    });
    const f = analyze(snap);
    expect(kinds(f)).toEqual(['duplicate-pod-ip', 'duplicate-record']);
    expect(f.find((x) => x.kind === 'duplicate-pod-ip')).toMatchObject({ ip: '10.0.1.7', pods: ['ns/p1', 'ns/p2'] });
    expect(describeFinding(f.find((x) => x.kind === 'duplicate-record')!)).toContain('10.0.1.7 recorded by a (pod ns/p1 uid u1) and b (pod ns/p2 uid u2)');
  });

  it('reports Running annotated pods without a record, count drift, stale endpoints, malformed entries', () => {
    const bad = block('a', '10.0.1.0/24', {});
    bad.spec.allocations['9'] = 'not an entry';
    const snap = snapshot({
      blocks: [bad],
      pools: [pool('a', 3)],
      pods: [pod('ns/p1', 'u1', { annotated: true }), pod('ns/p2', 'u2'), pod('ns/p3', 'u3', { annotated: true, phase: 'Pending' })],
      endpoints: [{ apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderEndpoint', metadata: { namespace: 'ns', name: 'gone' }, status: { current: { uid: 'x', node: 'n1', ips: [] }, ownerControllerType: 'Pod', ownerControllerName: 'gone' } }],
    });
    const f = analyze(snap);
    expect(kinds(f)).toEqual(['count-drift', 'endpoint-without-record', 'malformed-entry', 'pod-without-record']);
    expect(f.find((x) => x.kind === 'count-drift')).toEqual({ kind: 'count-drift', pool: 'a', statusAllocated: 3, recorded: 0 });
    expect(f.find((x) => x.kind === 'pod-without-record')).toMatchObject({ pod: 'ns/p1' });
  });

  it('limits records, pods and counts to the scope', () => {
    const snap = snapshot({
      blocks: [block('a', '10.0.1.0/24', { 1: { uid: 'gone', pod: 'ns/x', seq: 1 } }), block('b', '10.0.2.0/24', { 1: { uid: 'gone', pod: 'other/y', seq: 1 } })],
      pools: [pool('a', 1), pool('b', 0)],
    });
    expect(analyze(snap, { scope: { pools: ['a'] } }).map((f) => f.kind)).toEqual(['leak']);
    expect(analyze(snap, { scope: { namespaces: ['other'] } }).map((f) => f.kind)).toEqual(['leak', 'count-drift']);
  });
});

describe('ipam check arguments', () => {
  it('parses flags and repeated scopes', () => {
    expect(parseArgs(['--json', '--pool', 'a', '--pool', 'b', '--namespace', 'ns', '--release', '--yes'])).toMatchObject({
      json: true,
      release: true,
      yes: true,
      scope: { pools: ['a', 'b'], namespaces: ['ns'] },
    });
  });

  it('names what is wrong', () => {
    expect(parseArgs(['--pool'])).toEqual(new Error('--pool needs a value'));
    expect(parseArgs(['--frobnicate'])).toEqual(new Error('unknown argument "--frobnicate"'));
    expect(parseArgs(['--yes'])).toEqual(new Error('--yes only makes sense with --release'));
  });
});
