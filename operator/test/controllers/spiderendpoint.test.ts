// SpiderEndpoint derived from IPAMBlocks: per-interface ips with pools, gateways, routes; which pod
// incarnation is shown; owner references (none for StatefulSet pods); the top controller (Spiderpool's
// GetPodTopController); the up-to-date comparison that prevents rewrites.
import type { V1Pod } from '@kubernetes/client-node';
import type { SpiderIPPool } from '../../src/api/v2beta1/types.js';
import { heldInBlock } from '../../src/controllers/informers.js';
import {
  type ParentLookup,
  chooseUID,
  deriveEndpoint,
  directController,
  endpointUpToDate,
  resolveTopController,
} from '../../src/controllers/spiderendpoint.js';
import { blocks, pool } from './fixtures.js';

const pools = new Map<string, SpiderIPPool>([
  ['v4', pool('v4', { subnet: '10.6.0.0/16', ips: ['10.6.0.10-10.6.0.99'], gateway: '10.6.0.1', vlan: 100, routes: [{ dst: '10.20.0.0/16', gw: '10.6.0.254' }] })],
  ['v6', pool('v6', { subnet: 'fd00:6::/64', ips: ['fd00:6::10-fd00:6::99'], gateway: 'fd00:6::1' })],
  ['net1', pool('net1', { subnet: '10.7.0.0/24', ips: ['10.7.0.10-10.7.0.20'] })],
]);
const lookupPool = (n: string) => pools.get(n);

function podOf(name: string, uid: string, extra: Partial<NonNullable<V1Pod['metadata']>> = {}, nodeName = 'n1'): V1Pod {
  return { metadata: { namespace: 'ns', name, uid, ...extra }, spec: { nodeName, containers: [] } };
}

const held = (...bs: ReturnType<typeof blocks>[]) => bs.flat().flatMap((b) => heldInBlock(b).held);

describe('deriveEndpoint', () => {
  const all = held(
    blocks('v4', [{ ip: '10.6.0.11', pod: 'ns/web', uid: 'u1' }]),
    blocks('v6', [{ ip: 'fd00:6::11', pod: 'ns/web', uid: 'u1' }]),
    blocks('net1', [{ ip: '10.7.0.12', pod: 'ns/web', uid: 'u1', nic: 'net1' }]),
    blocks('v4', [{ ip: '10.6.0.12', pod: 'ns/other', uid: 'u9' }]),
  );

  it('one ips item per interface (eth0 first) with v4+v6 in CIDR form, pools, gateways, vlan and pool routes', () => {
    const pod = podOf('web', 'u1', {
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs', controller: true }],
      annotations: { 'ipam.spidernet.io/routes': JSON.stringify([{ dst: '172.30.0.0/16', gw: '10.7.0.1' }, { dst: '192.168.0.0/16', gw: '10.99.0.1' }]) },
    });
    const d = deriveEndpoint({ podKey: 'ns/web', held: all, pools: lookupPool, pod, top: { kind: 'Deployment', name: 'web' } });
    expect(d).toEqual({
      status: {
        current: {
          uid: 'u1',
          node: 'n1',
          ips: [
            {
              interface: 'eth0',
              ipv4: '10.6.0.11/16',
              ipv4Pool: 'v4',
              ipv4Gateway: '10.6.0.1',
              ipv6: 'fd00:6::11/64',
              ipv6Pool: 'v6',
              ipv6Gateway: 'fd00:6::1',
              vlan: 100,
              routes: [{ dst: '10.20.0.0/16', gw: '10.6.0.254' }],
            },
            // the annotation route whose gw is in 10.7.0.0/24 goes to net1; the one in no subnet to none
            { interface: 'net1', ipv4: '10.7.0.12/24', ipv4Pool: 'net1', vlan: 0, routes: [{ dst: '172.30.0.0/16', gw: '10.7.0.1' }] },
          ],
        },
        ownerControllerType: 'Deployment',
        ownerControllerName: 'web',
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'web', uid: 'u1' }],
    });
  });

  it('no entries for the pod: no endpoint', () => {
    expect(deriveEndpoint({ podKey: 'ns/none', held: all, pools: lookupPool, pod: podOf('none', 'u0'), top: { kind: 'Pod', name: 'none' } })).toBeUndefined();
  });

  it('StatefulSet pods get no owner reference (the endpoint outlives the pod, as in Spiderpool)', () => {
    const d = deriveEndpoint({ podKey: 'ns/web', held: all, pools: lookupPool, pod: podOf('web', 'u1'), top: { kind: 'StatefulSet', name: 'db' } });
    expect(d?.ownerReferences).toEqual([]);
    expect(d?.status.ownerControllerType).toBe('StatefulSet');
  });

  it('a pod that is gone: shown from the entries (node from the entry), without an owner reference', () => {
    const d = deriveEndpoint({ podKey: 'ns/web', held: all, pools: lookupPool, pod: undefined, top: { kind: 'Pod', name: 'web' } });
    expect(d?.ownerReferences).toEqual([]);
    expect(d?.status.current.uid).toBe('u1');
    expect(d?.status.current.node).toBe('n1');
  });

  it('a pool that is gone: host prefix, no gateway, vlan 0', () => {
    const h = held(blocks('gone', [{ ip: '10.9.0.5', pod: 'ns/x', uid: 'ux' }]));
    const d = deriveEndpoint({ podKey: 'ns/x', held: h, pools: lookupPool, pod: undefined, top: { kind: 'Pod', name: 'x' } });
    expect(d?.status.current.ips).toEqual([{ interface: 'eth0', ipv4: '10.9.0.5/32', ipv4Pool: 'gone', vlan: 0 }]);
  });
});

describe('chooseUID', () => {
  const h = held(
    blocks('v4', [
      { ip: '10.6.0.11', pod: 'ns/db-0', uid: 'old', at: '2026-11-21T10:00:00Z' },
      { ip: '10.6.0.12', pod: 'ns/db-0', uid: 'new', at: '2026-11-21T11:00:00Z' },
    ]),
  );
  it('the live pod’s uid when it holds something, else the most recent entry’s', () => {
    expect(chooseUID(h, podOf('db-0', 'old'))).toBe('old');
    expect(chooseUID(h, podOf('db-0', 'third'))).toBe('new');
    expect(chooseUID(h, undefined)).toBe('new');
    expect(chooseUID([], undefined)).toBeUndefined();
  });
  it('deriveEndpoint shows only that incarnation’s addresses', () => {
    const d = deriveEndpoint({ podKey: 'ns/db-0', held: h, pools: lookupPool, pod: podOf('db-0', 'old'), top: { kind: 'StatefulSet', name: 'db' } });
    expect(d?.status.current.ips.map((i) => i.ipv4)).toEqual(['10.6.0.11/16']);
  });
});

describe('top controller (Spiderpool GetPodTopController)', () => {
  const parents: Record<string, { apiVersion: string; kind: string; name: string }> = {
    'ns/ReplicaSet/web-abc': { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    'ns/Job/nightly-1': { apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly' },
  };
  const lookup: ParentLookup = async (ns, kind, name) => parents[`${ns}/${kind}/${name}`];
  const ref = (apiVersion: string, kind: string, name: string) => ({ apiVersion, kind, name, uid: 'x', controller: true });

  it.each([
    ['no controller → Pod/<pod name>', undefined, { kind: 'Pod', name: 'p' }],
    ['ReplicaSet under a Deployment → Deployment', ref('apps/v1', 'ReplicaSet', 'web-abc'), { kind: 'Deployment', name: 'web' }],
    ['bare ReplicaSet → ReplicaSet', ref('apps/v1', 'ReplicaSet', 'solo'), { kind: 'ReplicaSet', name: 'solo' }],
    ['Job under a CronJob → CronJob', ref('batch/v1', 'Job', 'nightly-1'), { kind: 'CronJob', name: 'nightly' }],
    ['StatefulSet → StatefulSet', ref('apps/v1', 'StatefulSet', 'db'), { kind: 'StatefulSet', name: 'db' }],
    ['DaemonSet → DaemonSet', ref('apps/v1', 'DaemonSet', 'agent'), { kind: 'DaemonSet', name: 'agent' }],
    ['third-party controller → its kind', ref('kruise.io/v1beta1', 'CloneSet', 'cs'), { kind: 'CloneSet', name: 'cs' }],
    ['third-party kind named ReplicaSet is not looked up', ref('x.io/v1', 'ReplicaSet', 'web-abc'), { kind: 'ReplicaSet', name: 'web-abc' }],
  ])('%s', async (_what, owner, want) => {
    const pod = podOf('p', 'u', owner ? { ownerReferences: [owner] } : {});
    expect(await resolveTopController('p', 'ns', directController(pod, undefined), lookup)).toEqual(want);
  });

  it('a gone pod uses the owner recorded in the block entry', async () => {
    expect(directController(undefined, 'ReplicaSet/web-abc')).toEqual({ kind: 'ReplicaSet', name: 'web-abc' });
    expect(await resolveTopController('p', 'ns', directController(undefined, 'ReplicaSet/web-abc'), lookup)).toEqual({ kind: 'Deployment', name: 'web' });
    expect(directController(undefined, undefined)).toBeUndefined();
  });
});

describe('endpointUpToDate', () => {
  it('ignores key order and server-side fields; sees status and owner changes', () => {
    const want = deriveEndpoint({ podKey: 'ns/other', held: held(blocks('v4', [{ ip: '10.6.0.12', pod: 'ns/other', uid: 'u9' }])), pools: lookupPool, pod: podOf('other', 'u9'), top: { kind: 'Pod', name: 'other' } })!;
    const existing = {
      apiVersion: 'spiderpool.spidernet.io/v2beta1' as const,
      kind: 'SpiderEndpoint' as const,
      metadata: { name: 'other', namespace: 'ns', resourceVersion: '5', ownerReferences: [{ uid: 'u9', name: 'other', kind: 'Pod', apiVersion: 'v1' }] },
      status: JSON.parse(JSON.stringify({ ownerControllerName: 'other', ownerControllerType: 'Pod', current: want.status.current })),
    };
    expect(endpointUpToDate(existing, want)).toBe(true);
    expect(endpointUpToDate({ ...existing, metadata: { ...existing.metadata, ownerReferences: [] } }, want)).toBe(false);
    expect(endpointUpToDate(existing, { ...want, status: { ...want.status, current: { ...want.status.current, node: 'n2' } } })).toBe(false);
  });
});
