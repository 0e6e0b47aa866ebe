/**
 * npm run bench:service — CPU cost of one Allocate inside the allocator service, with the storage
 * taken out: the same AllocatorService + BlockCommitter the operator runs, over an in-memory block
 * store (MemoryBlockIO, the unit tests' CAS store), callers in waves of 500 like bench:alloc's
 * hardest round, logging at the operator's default level (info) into a null stream.
 *
 * Why: at 500 concurrent callers the latency of a wave is (CPU of the wave) + (one block write), so
 * µs per allocation here is what bench:alloc's p99 is made of besides the apiserver. It is measured
 * without the apiserver, so it is steady on a busy machine where bench:alloc is not.
 * stdout: one JSON line per round, {"round":…,"allocations":…,"usPerAlloc":…,"cpuUsPerAlloc":…}; best round last.
 */
import { Writable } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import type { SpiderIPPool } from '../src/api/v2beta1/types.js';
import { createLogger } from '../src/framework/logger.js';
import { AllocatorService } from '../src/service/allocator-service.js';
import { BlockCommitter } from '../src/service/block-committer.js';
import { rebuildState } from '../src/service/rebuild.js';
import { MemoryBlockIO } from '../test/service/memory-block-io.js';

const WAVE = 500;
const PODS = 20_000;
const ROUNDS = 5;
const progress = (msg: string) => process.stderr.write(`[bench:service] ${msg}\n`);

const log = createLogger({ level: 'info', stream: new Writable({ write: (_c, _e, cb) => cb() }) });
// 20 unrelated pools in the cluster, as a real one has: selection looks at all of them.
const pools: SpiderIPPool[] = [
  { apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderIPPool', metadata: { name: 'bench', uid: 'uid-bench' }, spec: { subnet: '10.0.0.0/16', ips: ['10.0.0.0-10.0.255.255'] } },
  ...Array.from({ length: 20 }, (_, i): SpiderIPPool => ({ apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderIPPool', metadata: { name: `other-${i}`, uid: `uid-other-${i}` }, spec: { subnet: `10.${i + 1}.0.0/24`, ips: [`10.${i + 1}.0.1-10.${i + 1}.0.200`] } })),
];
// Frozen like the informer snapshot the operator passes (selection memoises its index on it).
const frozenPools = Object.freeze([...pools]);
const pods = new Map<string, V1Pod>();
for (let i = 0; i < PODS; i++) {
  const name = `web-7d4b9c8f6-${i.toString(36).padStart(5, '0')}`;
  pods.set(name, {
    metadata: {
      namespace: 'bench',
      name,
      uid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
      labels: { app: 'web', 'pod-template-hash': '7d4b9c8f6' },
      annotations: { 'ipam.spidernet.io/ippool': JSON.stringify({ ipv4: ['bench'] }) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d4b9c8f6', uid: 'rs', controller: true }],
    },
    spec: { nodeName: `node-${i % 10}`, containers: [] },
  });
}
const names = [...pods.keys()];

const io = new MemoryBlockIO();
const committer = new BlockCommitter(io);
const service = new AllocatorService({
  committer,
  cluster: { pod: async (_ns, name) => pods.get(name), namespace: () => undefined, nodeLabels: () => ({}), pools: () => frozenPools, statefulSetReplicas: async () => undefined },
  selection: { enableIPv4: true, enableIPv6: false, multusNamespace: 'kube-system' },
  log,
});
service.setState(await rebuildState(io, committer, pools, [], log));

const request = (name: string) => {
  const p = pods.get(name)!;
  return { containerId: `cid-${name}`, netns: '', ifname: 'eth0', pod: { namespace: 'bench', name, uid: p.metadata!.uid! }, nodeName: p.spec!.nodeName!, defaultIpv4Ippool: [], defaultIpv6Ippool: [], requestId: '', networkName: '' };
};

let best = Infinity;
for (let round = 1; round <= ROUNDS; round++) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < PODS; i += WAVE) await Promise.all(names.slice(i, i + WAVE).map((n) => service.allocate(request(n))));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const line = { round, allocations: PODS, usPerAlloc: Math.round((wall * 1000) / PODS * 10) / 10, cpuUsPerAlloc: Math.round(((cpu.user + cpu.system) / PODS) * 10) / 10 };
  best = Math.min(best, line.usPerAlloc);
  console.log(JSON.stringify(line));
  progress(`round ${round}: ${line.usPerAlloc} µs per allocation; releasing (untimed)`);
  for (let i = 0; i < PODS; i += WAVE) {
    await Promise.all(names.slice(i, i + WAVE).map((n) => { const r = request(n); return service.release({ containerId: r.containerId, ifname: 'eth0', pod: r.pod, nodeName: r.nodeName, ips: [], requestId: '', networkName: '' }); }));
  }
}
progress(`best round: ${best} µs per allocation`);
