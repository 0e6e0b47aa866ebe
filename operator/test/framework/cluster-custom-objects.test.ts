// The shared CustomObjectsApi wrapper and the three stores built on it (IPAMBlock, auto-pool
// SpiderSubnet/SpiderIPPool, IPAMHistory), against a scripted HTTP server on 127.0.0.1: the requests
// they send (path, method, merge-patch content type, preconditions), and how each store maps the
// answers — a missing object, a lost compare-and-swap race, any other failure with context.
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { ConflictError, KubeAutoPoolIO, type SubnetObject } from '../../src/controllers/autopool/kube-io.js';
import { apiErrorDetail, apiFailure } from '../../src/framework/cluster-custom-objects.js';
import { KubeHistoryIO } from '../../src/history/kube-io.js';
import type { IPAMHistory } from '../../src/history/record.js';
import type { IPAMBlock } from '../../src/api/internal/ipamblock.js';
import type { SpiderIPPool } from '../../src/api/v2beta1/types.js';
import { BlockConflict, KubeBlockIO } from '../../src/service/block-client.js';

interface Seen {
  method: string;
  path: string;
  contentType: string | undefined;
  body: unknown;
}

/** Answers every request with the next scripted [status, body]; records what it was asked. */
let server: Server;
let kc: KubeConfig;
const seen: Seen[] = [];
let answers: [number, object][] = [];

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => resolve(s));
  });

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const raw = await readBody(req);
    seen.push({ method: req.method ?? '', path: req.url ?? '', contentType: req.headers['content-type'], body: raw ? JSON.parse(raw) : undefined });
    const [status, body] = answers.shift() ?? [500, { message: 'no answer scripted' }];
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  kc = new KubeConfig();
  kc.loadFromOptions({
    // client-node refuses plain HTTP unless TLS verification is off (there is no TLS to verify).
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  seen.length = 0;
  answers = [];
});

const status = (code: number, reason: string) => [code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code }] as [number, object];
const caught = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);

const BLOCKS = '/apis/ipam.spiderpool-ts.io/v1alpha1/ipamblocks';
const block = (name: string, resourceVersion?: string) => ({ apiVersion: 'ipam.spiderpool-ts.io/v1alpha1', kind: 'IPAMBlock', metadata: { name, ...(resourceVersion ? { resourceVersion } : {}) } }) as unknown as IPAMBlock;

describe('apiErrorDetail / apiFailure', () => {
  it('a plain error is its message; the failure keeps it as the cause', () => {
    const e = new Error('socket hang up');
    expect(apiErrorDetail(e)).toBe('socket hang up');
    expect(apiErrorDetail('x')).toBe('x');
    const f = apiFailure('IPAMBlock b', 'get', e);
    expect(f.message).toBe('IPAMBlock b: get failed: socket hang up');
    expect(f.cause).toBe(e);
  });
});

describe('KubeBlockIO', () => {
  it('get: the object; a missing block is undefined; another failure names the block, the op and the HTTP answer', async () => {
    const io = new KubeBlockIO(kc);
    answers = [[200, block('b1', '5')], status(404, 'NotFound'), status(500, 'InternalError')];
    expect((await io.get('b1'))?.metadata.resourceVersion).toBe('5');
    expect(await io.get('b2')).toBeUndefined();
    const e = await caught(io.get('b3'));
    expect(e).not.toBeInstanceOf(BlockConflict);
    expect(e?.message).toMatch(/^IPAMBlock b3: get failed: HTTP 500: .*InternalError/);
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([`GET ${BLOCKS}/b1`, `GET ${BLOCKS}/b2`, `GET ${BLOCKS}/b3`]);
  });

  it('create/replace/delete: 409 is a BlockConflict, and so is 404 on replace and delete; the precondition is sent', async () => {
    const io = new KubeBlockIO(kc);
    answers = [status(409, 'AlreadyExists'), status(409, 'Conflict'), status(404, 'NotFound'), status(409, 'Conflict'), status(404, 'NotFound'), status(404, 'NotFound')];
    expect(await caught(io.create(block('b1')))).toMatchObject({ name: 'BlockConflict', block: 'b1', op: 'create' });
    expect(await caught(io.replace(block('b1', '7')))).toMatchObject({ name: 'BlockConflict', op: 'replace' });
    expect(await caught(io.replace(block('b1', '7')))).toMatchObject({ name: 'BlockConflict', op: 'replace' });
    expect(await caught(io.delete('b1', '7'))).toMatchObject({ name: 'BlockConflict', op: 'delete' });
    expect(await caught(io.delete('b1', '7'))).toMatchObject({ name: 'BlockConflict', op: 'delete' });
    const e = await caught(io.create(block('b9')));
    expect(e).not.toBeInstanceOf(BlockConflict);
    expect(e?.message).toMatch(/^IPAMBlock b9: create failed: HTTP 404/);
    expect(seen.map((s) => `${s.method} ${s.path}`).slice(0, 4)).toEqual([`POST ${BLOCKS}`, `PUT ${BLOCKS}/b1`, `PUT ${BLOCKS}/b1`, `DELETE ${BLOCKS}/b1`]);
    expect(seen[1]!.body).toMatchObject({ metadata: { name: 'b1', resourceVersion: '7' } });
    expect(seen[3]!.body).toMatchObject({ preconditions: { resourceVersion: '7' } });
  });
});

describe('KubeAutoPoolIO', () => {
  const SUBNETS = '/apis/spiderpool.spidernet.io/v2beta1/spidersubnets';
  const POOLS = '/apis/spiderpool.spidernet.io/v2beta1/spiderippools';
  const subnet = { apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderSubnet', metadata: { name: 's1', resourceVersion: '3' }, spec: {}, status: {} } as unknown as SubnetObject;

  it('reads a subnet (missing = undefined) and writes its status subresource; a lost race is a ConflictError', async () => {
    const io = new KubeAutoPoolIO(kc);
    answers = [status(404, 'NotFound'), [200, subnet], status(409, 'Conflict'), status(403, 'Forbidden')];
    expect(await io.getSubnet('s0')).toBeUndefined();
    expect((await io.replaceSubnetStatus(subnet)).metadata?.name).toBe('s1');
    const conflict = await caught(io.replaceSubnetStatus(subnet));
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict?.message).toBe('writing SpiderSubnet s1 status: changed meanwhile (HTTP 409)');
    const other = await caught(io.getSubnet('s2'));
    expect(other).not.toBeInstanceOf(ConflictError);
    expect(other?.message).toMatch(/^reading SpiderSubnet s2: HTTP 403: .*Forbidden/);
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([`GET ${SUBNETS}/s0`, `PUT ${SUBNETS}/s1/status`, `PUT ${SUBNETS}/s1/status`, `GET ${SUBNETS}/s2`]);
  });

  it('pools: create, merge patch guarded by resourceVersion, delete by uid (already gone is fine)', async () => {
    const io = new KubeAutoPoolIO(kc);
    const pool = { apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderIPPool', metadata: { name: 'p1' }, spec: { ips: [] } } as unknown as SpiderIPPool;
    answers = [[201, pool], status(409, 'Conflict'), status(404, 'NotFound'), status(409, 'Conflict'), status(500, 'InternalError')];
    await io.createPool(pool);
    const conflict = await caught(io.patchPool('p1', { spec: { ips: ['10.0.0.1'] } }, '9'));
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict?.message).toBe('patching SpiderIPPool p1: changed meanwhile (HTTP 409)');
    await expect(io.deletePool('p1', 'u1')).resolves.toBeUndefined();
    expect(await caught(io.deletePool('p1', 'u1'))).toBeInstanceOf(ConflictError);
    expect((await caught(io.createPool(pool)))?.message).toMatch(/^creating SpiderIPPool p1: HTTP 500/);
    expect(seen.map((s) => `${s.method} ${s.path}`).slice(0, 3)).toEqual([`POST ${POOLS}`, `PATCH ${POOLS}/p1`, `DELETE ${POOLS}/p1`]);
    expect(seen[1]).toMatchObject({ contentType: 'application/merge-patch+json', body: { spec: { ips: ['10.0.0.1'] }, metadata: { resourceVersion: '9' } } });
    expect(seen[2]!.body).toMatchObject({ preconditions: { uid: 'u1' } });
  });
});

describe('KubeHistoryIO', () => {
  const HISTORIES = '/apis/ipam.spiderpool-ts.io/v1alpha1/ipamhistories';
  const history = { apiVersion: 'ipam.spiderpool-ts.io/v1alpha1', kind: 'IPAMHistory', metadata: { name: 'h1', resourceVersion: '4' } } as unknown as IPAMHistory;

  it('get (missing = undefined), create, replace; failures say read/create/replace failed with the HTTP answer', async () => {
    const io = new KubeHistoryIO(kc);
    answers = [status(404, 'NotFound'), [201, history], [200, history], status(500, 'InternalError'), status(409, 'AlreadyExists'), status(409, 'Conflict')];
    expect(await io.get('h0')).toBeUndefined();
    await io.create(history);
    await io.replace(history);
    expect((await caught(io.get('h1')))?.message).toMatch(/^IPAMHistory h1: read failed: HTTP 500/);
    expect((await caught(io.create(history)))?.message).toMatch(/^IPAMHistory h1: create failed: HTTP 409/);
    expect((await caught(io.replace(history)))?.message).toMatch(/^IPAMHistory h1: replace failed: HTTP 409/);
    expect(seen.map((s) => `${s.method} ${s.path}`).slice(0, 3)).toEqual([`GET ${HISTORIES}/h0`, `POST ${HISTORIES}`, `PUT ${HISTORIES}/h1`]);
  });
});
