// The allocator over its real transport: grpc-js with TLS and client certificates, against the real
// apiserver. A node's certificate allocates for its pods; another node's certificate is refused; a
// follower answers UNAVAILABLE / not-leader naming the leader.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { jest } from '@jest/globals';
import { makePki, type Pki } from '../../../ipam-plugin/test/support/pki.js';
import type { AllocateRequest } from '../../../operator/src/rpc/gen/spiderpool_ts/ipam/v1/ipam.js';
import { IpamGrpcServer, type Leadership } from '../../../operator/src/service/grpc-server.js';
import { createPods, createPool, type Env, failure, type GrpcCaller, grpcClient, type Instance, setUp, startInstance, tearDown } from './harness.js';
import { kubectl } from '../../support/cluster.js';
import { waitFor } from '../helpers/wait.js';

jest.setTimeout(180_000);

const pool = `alloc-grpc-${randomBytes(3).toString('hex')}`;
let env: Env;
let inst: Instance;
let pods: Map<string, string>;
const servers: IpamGrpcServer[] = [];
const clients: GrpcCaller[] = [];
const pkis: Pki[] = [];

beforeAll(async () => {
  env = await setUp('alloc-grpc');
  await createPool(pool, '10.254.0.0/16', '10.254.1.0-10.254.1.255');
  pods = await createPods(env, 'g', 3, pool);
  inst = await startInstance(env, 'grpc');
}, 10 * 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.stop(1000)));
  await inst?.stop();
  for (const p of pkis) rmSync(p.dir, { recursive: true, force: true });
  if (env) await tearDown(env, [pool]);
});

async function serve(pki: Pki, leadership: Leadership): Promise<number> {
  const server = new IpamGrpcServer({ service: inst.service, leadership: () => leadership, tls: { certChain: pki.serverCert, privateKey: pki.serverKey, clientCA: pki.ca }, log: env.log });
  servers.push(server);
  return server.listen('127.0.0.1', 0);
}

function client(pki: Pki, port: number) {
  const c = grpcClient(pki, port);
  clients.push(c);
  return (method: Parameters<GrpcCaller['call']>[0], req: object) => c.call(method, req);
}

const req = (name: string, nodeName: string): AllocateRequest => ({
  containerId: `cid-${name}`,
  netns: '',
  ifname: 'eth0',
  pod: { namespace: env.ns, name, uid: pods.get(name)! },
  nodeName,
  defaultIpv4Ippool: [],
  defaultIpv6Ippool: [],
  requestId: 'grpc-test',
  networkName: '',
});
describe('allocator gRPC server', () => {
  it('serves the pod node over mTLS and refuses other nodes, mismatched names and followers', async () => {
    const nodePki = makePki(env.node);
    pkis.push(nodePki);
    const port = await serve(nodePki, { leading: true });
    const call = client(nodePki, port);

    const res = (await call('allocate', req('g-0', env.node))) as { ips: { address: string; pool: string }[] };
    expect(res.ips[0]).toMatchObject({ pool, address: expect.stringMatching(/^10\.254\.1\.\d+\/16$/) });
    const check = (await call('check', { containerId: 'cid-g-0', ifname: 'eth0', pod: { namespace: env.ns, name: 'g-0', uid: pods.get('g-0')! }, nodeName: env.node, requestId: '' })) as { ips: unknown[] };
    expect(check.ips).toEqual(res.ips);
    expect(await call('status', { nodeName: env.node })).toEqual({ ready: true, message: '' });

    // The request names another node than the certificate.
    expect(await failure(call('allocate', req('g-1', 'other-node')))).toEqual({ code: 16, detail: { reason: 'unauthenticated', metadata: {} } });

    // Another node's certificate asking for a pod on env.node.
    const otherPki = makePki('other-node');
    pkis.push(otherPki);
    const otherPort = await serve(otherPki, { leading: true });
    expect(await failure(client(otherPki, otherPort)('allocate', req('g-1', 'other-node')))).toEqual({
      code: 9,
      detail: { reason: 'pod-not-on-node', metadata: { node: env.node } },
    });

    // A follower points at the leader.
    const followerPort = await serve(nodePki, { leading: false, leader: '10.0.0.7:9443' });
    expect(await failure(client(nodePki, followerPort)('allocate', req('g-2', env.node)))).toEqual({
      code: 14,
      detail: { reason: 'not-leader', metadata: { leader: '10.0.0.7:9443' } },
    });

    // Release over the wire, for a pod being deleted (a live pod's DEL keeps its addresses for the
    // sandbox that replaces it); a second one is NOT_FOUND (the shim treats it as success).
    const del = { containerId: 'cid-g-0', ifname: 'eth0', pod: { namespace: env.ns, name: 'g-0', uid: pods.get('g-0')! }, nodeName: env.node, ips: [], requestId: '', networkName: '' };
    expect(await call('release', del)).toEqual({ released: [] });
    await kubectl(['delete', 'pod', 'g-0', '-n', env.ns, '--wait=false']);
    const freed = await waitFor(
      'the DEL to free the terminating pod\'s address',
      async () => {
        const r = (await call('release', del)) as { released: string[] };
        return { ok: r.released.length > 0, value: r, detail: JSON.stringify(r) };
      },
      30_000,
      200,
    );
    expect(freed).toEqual({ released: [res.ips[0]!.address.split('/')[0]] });
    expect(await failure(call('release', del))).toEqual({ code: 5, detail: { reason: 'allocation-not-found', metadata: {} } });
  });
});

