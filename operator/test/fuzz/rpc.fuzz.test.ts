// Fuzzing the allocator's RPC surface: 10,000 seeded requests as raw protobuf bytes over a real
// gRPC/TLS connection on 127.0.0.1 to the operator's IpamGrpcServer, in front of the real
// AllocatorService and group committer over the in-memory CAS block store.
//
// Cases: well-formed requests with random field values (biased toward the pods and node that exist,
// so allocations really happen), the same encodings with bytes flipped or cut, and random bytes.
// Property per call: an answer within the deadline, either OK or a status our service chose (its
// details trailer present) — never the catch-all INTERNAL an unexpected exception becomes, except
// grpc-js's own "cannot deserialize" for bytes that are not the message.
// Property at the end: no partial write — the blocks in the store, rebuilt from scratch, hold exactly
// what the service believes it holds, and no address is held twice.
import { credentials, Metadata, makeGenericClientConstructor, type ServiceError, status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { Writable } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import type { SpiderIPPool } from '../../src/api/v2beta1/types.js';
import { createLogger } from '../../src/framework/logger.js';
import { STATUS_DETAILS_TRAILER } from '../../src/rpc/errors.js';
import { AllocateRequest, CheckRequest, GCRequest, ReleaseRequest, StatusRequest } from '../../src/rpc/gen/spiderpool_ts/ipam/v1/ipam.js';
import { ipamServiceDefinition } from '../../src/rpc/grpc-service.js';
import { AllocatorService } from '../../src/service/allocator-service.js';
import { BlockCommitter } from '../../src/service/block-committer.js';
import { IpamGrpcServer } from '../../src/service/grpc-server.js';
import type { PoolState } from '../../src/service/pool-state.js';
import { rebuildState } from '../../src/service/rebuild.js';
import { makePki, type Pki } from '../../../ipam-plugin/test/support/pki.js';
import { MemoryBlockIO } from '../service/memory-block-io.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261121);
const NODE = 'node-1';
const log = createLogger({ level: 'error', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

const pools: SpiderIPPool[] = [
  { apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderIPPool', metadata: { name: 'fuzz-v4', uid: 'uid-v4' }, spec: { subnet: '198.18.50.0/24', ips: ['198.18.50.10-198.18.50.200'], gateway: '198.18.50.1' } },
  { apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderIPPool', metadata: { name: 'fuzz-v6', uid: 'uid-v6' }, spec: { subnet: '2001:db8:50::/64', ips: ['2001:db8:50::10-2001:db8:50::ff'] } },
];
const POD_NAMES = Array.from({ length: 8 }, (_, i) => `fuzz-${i}`);
const pods = new Map<string, V1Pod>(
  POD_NAMES.map((name, i) => [
    name,
    {
      metadata: { namespace: 'ns', name, uid: `uid-${i}`, annotations: { 'ipam.spidernet.io/ippool': JSON.stringify(i % 2 ? { ipv4: ['fuzz-v4'], ipv6: ['fuzz-v6'] } : { ipv4: ['fuzz-v4'] }) } },
      spec: { nodeName: i === 7 ? 'node-2' : NODE, containers: [] },
    },
  ]),
);

type Method = 'allocate' | 'release' | 'check' | 'gC' | 'status';
// Raw bytes both ways: the fuzzer writes the request bytes itself.
const rawDefinition = Object.fromEntries(
  Object.entries(ipamServiceDefinition).map(([k, d]) => [k, { ...d, requestSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b }]),
);
const RawClient = makeGenericClientConstructor(rawDefinition as never, 'IPAM');

let pki: Pki;
let io: MemoryBlockIO;
let service: AllocatorService;
let server: IpamGrpcServer;
let client: InstanceType<typeof RawClient>;

beforeAll(async () => {
  pki = makePki(NODE);
  io = new MemoryBlockIO();
  const committer = new BlockCommitter(io);
  service = new AllocatorService({
    committer,
    cluster: { pod: async (_ns, name) => pods.get(name), namespace: () => undefined, nodeLabels: () => ({}), pools: () => pools, statefulSetReplicas: async () => undefined },
    selection: { enableIPv4: true, enableIPv6: true, multusNamespace: 'kube-system' },
    gcGraceMs: 0,
    log,
  });
  service.setState(await rebuildState(io, committer, pools, [], log));
  server = new IpamGrpcServer({ service, leadership: () => ({ leading: true }), tls: { certChain: pki.serverCert, privateKey: pki.serverKey, clientCA: pki.ca }, log });
  const port = await server.listen('127.0.0.1', 0);
  const { readFileSync } = await import('node:fs');
  client = new RawClient(`127.0.0.1:${port}`, credentials.createSsl(pki.ca, readFileSync(pki.clientKeyFile), readFileSync(pki.clientCertFile)));
});
afterAll(async () => {
  client.close();
  await server.stop(1000);
});

const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('', ' ', 'a'.repeat(300), '../x', '\u0000'));
const mostly = <T>(valid: fc.Arbitrary<T>, other: fc.Arbitrary<T>) => fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: other, weight: 1 });
const podName = mostly(fc.constantFrom(...POD_NAMES), text);
const pod = podName.chain((name) =>
  fc.record({
    namespace: mostly(fc.constant('ns'), text),
    name: fc.constant(name),
    uid: mostly(fc.constant(pods.get(name)?.metadata?.uid ?? ''), text),
  }),
);
const node = mostly(fc.constant(NODE), fc.oneof(text, fc.constant('node-2'), fc.constant('')));
const cid = mostly(fc.constantFrom('c1', 'c2', 'c3'), text);
const ifname = mostly(fc.constantFrom('eth0', 'net1'), text);
const poolList = fc.array(mostly(fc.constantFrom('fuzz-v4', 'fuzz-v6', 'fuzz-*'), text), { maxLength: 3 });

const enc = (m: Method, bytes: Uint8Array): [Method, Buffer] => [m, Buffer.from(bytes)];
const wellFormed: fc.Arbitrary<[Method, Buffer]> = fc.oneof(
  fc
    .record({ containerId: cid, netns: text, ifname, pod, nodeName: node, defaultIpv4Ippool: poolList, defaultIpv6Ippool: poolList, requestId: text, networkName: text, cleanGateway: fc.option(fc.boolean(), { nil: undefined }) })
    .map((r) => enc('allocate', AllocateRequest.encode(AllocateRequest.fromPartial(r)).finish())),
  fc
    .record({ containerId: cid, ifname, pod, nodeName: node, ips: mostly(fc.constant([] as string[]), fc.array(text, { maxLength: 2 })), requestId: text, networkName: mostly(fc.constant(''), text) })
    .map((r) => enc('release', ReleaseRequest.encode(ReleaseRequest.fromPartial(r)).finish())),
  fc.record({ containerId: cid, ifname, pod, nodeName: node, requestId: text }).map((r) => enc('check', CheckRequest.encode(CheckRequest.fromPartial(r)).finish())),
  fc
    .record({ nodeName: node, validAttachments: fc.array(fc.record({ containerId: cid, ifname }), { maxLength: 3 }), requestId: text, networkName: text })
    .map((r) => enc('gC', GCRequest.encode(GCRequest.fromPartial(r)).finish())),
  fc.record({ nodeName: node }).map((r) => enc('status', StatusRequest.encode(StatusRequest.fromPartial(r)).finish())),
);
const methodName = fc.constantFrom<Method>('allocate', 'release', 'check', 'gC', 'status');
const damaged: fc.Arbitrary<[Method, Buffer]> = fc
  .tuple(wellFormed, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.option(fc.nat(), { nil: undefined }))
  .map(([[m, bytes], flips, cut]) => {
    const b = Buffer.from(bytes);
    for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v;
    return [m, cut === undefined || b.length === 0 ? b : b.subarray(0, cut % b.length)] as [Method, Buffer];
  });
const random: fc.Arbitrary<[Method, Buffer]> = fc.tuple(methodName, fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a)));

function call(method: Method, bytes: Buffer): Promise<{ code: number; details: string; trailer: boolean }> {
  return new Promise((resolve) => {
    const deadline = new Date(Date.now() + 5_000);
    const fn = (client as unknown as Record<string, (b: Buffer, m: Metadata, o: object, cb: (e: ServiceError | null) => void) => void>)[method]!;
    fn.call(client, bytes, new Metadata(), { deadline }, (e) =>
      resolve(e ? { code: e.code, details: e.details, trailer: e.metadata.get(STATUS_DETAILS_TRAILER).length > 0 } : { code: status.OK, details: '', trailer: false }),
    );
  });
}

/** pool/ip → owner uid, from a state. */
function holdings(state: PoolState): Map<string, string> {
  const out = new Map<string, string>();
  for (const key of state.podKeys()) {
    const [ns = '', name = ''] = key.split('/');
    for (const h of state.forPod(ns, name)) {
      const k = `${h.pool}/${h.ip}`;
      expect(out.has(k)).toBe(false);
      out.set(k, h.entry.uid);
    }
  }
  return out;
}

test(`fuzz: ${RUNS} raw RPCs get a deliberate answer and leave the records whole`, async () => {
  const tally = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(fc.oneof({ arbitrary: wellFormed, weight: 5 }, { arbitrary: damaged, weight: 2 }, { arbitrary: random, weight: 1 }), async ([method, bytes]) => {
      const r = await call(method, bytes);
      expect(r.code).not.toBe(status.DEADLINE_EXCEEDED);
      if (r.code === status.INTERNAL && !r.trailer) expect(r.details).toMatch(/deserializ|parse|invalid wire type|index out of range|illegal/i);
      if (r.code !== status.OK && r.code !== status.INTERNAL) expect(r.trailer).toBe(true);
      const tag = `${method} ${status[r.code]}`;
      tally.set(tag, (tally.get(tag) ?? 0) + 1);
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
  expect(tally.get('allocate OK') ?? 0).toBeGreaterThan(RUNS / 100);
  // Few releases find something: GC (grace 0 here) frees whatever the fuzzed valid-attachments omit.
  expect(tally.get('release OK') ?? 0).toBeGreaterThan(RUNS / 2000);
  expect(tally.get('gC OK') ?? 0).toBeGreaterThan(RUNS / 100);

  // No partial write: what the blocks say (rebuilt from scratch) is what the service holds.
  const live = holdings(service.poolState!);
  const rebuilt = holdings(await rebuildState(io, new BlockCommitter(new MemoryBlockIO()), pools, [], log));
  expect(rebuilt).toEqual(live);
  process.stderr.write(`rpc fuzz tally: ${JSON.stringify(Object.fromEntries([...tally].sort()))}; held at the end: ${live.size}\n`);
});
