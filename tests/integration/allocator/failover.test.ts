// Two full operators (operator.ts: caches, Lease election, allocator term, TLS gRPC) against the real
// apiserver: the follower points callers at the leader; when the leader stops, the follower takes the
// Lease, rebuilds from the IPAMBlocks and continues — same addresses for pods it did not serve, no
// address twice.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { jest } from '@jest/globals';
import { makePki, type Pki } from '../../../ipam-plugin/test/support/pki.js';
import type { OperatorConfig } from '../../../operator/src/config.js';
import { createOperator, type Operator } from '../../../operator/src/operator.js';
import { waitFor } from '../helpers/wait.js';
import { createPods, createPool, type Env, failure, type GrpcCaller, grpcClient, recordedAddresses, setUp, tearDown } from './harness.js';

jest.setTimeout(180_000);

const pool = `alloc-fo-${randomBytes(3).toString('hex')}`;
let env: Env;
const operators: Operator[] = [];
const clients: GrpcCaller[] = [];
let pki: Pki | undefined;

beforeAll(async () => {
  env = await setUp('alloc-fo');
  await createPool(pool, '10.248.0.0/16', '10.248.1.0-10.248.1.255');
}, 10 * 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(operators.map((o) => o.stop(1000)));
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
  if (env) await tearDown(env, [pool]);
});

it('fails over to the follower, which rebuilds and never hands out an address twice', async () => {
  const pods = [...(await createPods(env, 'f', 40, pool))];
  pki = makePki(env.node);
  const certs = pki;
  const basePort = 20_000 + Math.floor(Math.random() * 20_000);
  const config = (i: number): OperatorConfig => ({
    kubeconfig: '',
    podName: `op-${i}`,
    namespace: env.ns,
    leaseName: 'allocator',
    lease: { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 },
    grpcHost: '127.0.0.1',
    grpcPort: basePort + i,
    advertiseAddress: `127.0.0.1:${basePort + i}`,
    tls: { certChain: certs.serverCert, privateKey: certs.serverKey, clientCA: certs.ca },
    healthPort: 0,
    enableIPv4: true,
    enableIPv6: true,
    statefulSetKeepsIPs: true,
    gcGraceMs: 60_000,
    logLevel: 'error',
  });
  const ops = [0, 1].map((i) => createOperator(config(i), env.kc, env.log.child({ op: i })));
  operators.push(...ops);
  await Promise.all(ops.map((o) => o.start()));
  const leaderIndex = await waitFor('a leader serving', async () => {
    const i = ops.findIndex((o) => o.manager.leaderElector!.isLeader() && o.service.status().ready);
    return { ok: i >= 0, value: i, detail: 'none yet' };
  }, 30_000, 100);
  const leader = ops[leaderIndex]!;
  const follower = ops[1 - leaderIndex]!;
  const rpc = (i: number) => {
    const c = grpcClient(certs, basePort + i);
    clients.push(c);
    return c;
  };
  const allocate = (c: GrpcCaller, [name, uid]: [string, string]) =>
    c.call('allocate', { containerId: `c-${name}`, netns: '', ifname: 'eth0', pod: { namespace: env.ns, name, uid }, nodeName: env.node, defaultIpv4Ippool: [], defaultIpv6Ippool: [], requestId: '', networkName: '' }) as Promise<{ ips: { address: string }[] }>;

  // A follower names the leader once it has read the Lease (until then: not-leader without a name).
  await waitFor('the follower seeing the leader', async () => ({ ok: follower.manager.leaderElector!.leader() !== undefined, detail: 'not yet' }), 10_000, 100);
  expect(await failure(allocate(rpc(1 - leaderIndex), pods[0]!))).toEqual({ code: 14, detail: { reason: 'not-leader', metadata: { leader: `127.0.0.1:${basePort + leaderIndex}` } } });
  const first = await Promise.all(pods.slice(0, 20).map((p) => allocate(rpc(leaderIndex), p)));

  await leader.stop(1000);
  await waitFor('the follower leading and rebuilt', async () => ({ ok: follower.service.status().ready, detail: JSON.stringify(follower.service.status()) }), 30_000, 100);
  const next = rpc(1 - leaderIndex);
  const second = await Promise.all(pods.slice(20).map((p) => allocate(next, p)));
  const again = await Promise.all(pods.slice(0, 5).map((p) => allocate(next, p)));

  const addr = (r: { ips: { address: string }[] }) => r.ips[0]!.address;
  expect(again.map(addr)).toEqual(first.slice(0, 5).map(addr));
  expect(new Set([...first, ...second].map(addr)).size).toBe(40);
  expect((await recordedAddresses(env, pool)).size).toBe(40);
});
