// Client-side cost of one IPAMBlock replace of a full block (256 entries, ~50 KB of JSON), the write
// every group commit makes: client-node's generated CustomObjectsApi (on the same pooled
// connections) against KubeBlockIO's plain JSON request (framework/kube-json-client.ts), alternating
// rounds in one process. One JSON line per round: {"via":…,"cpuMsPerWrite":…,"wallMsPerWrite":…}.
//   node --import ./hack/register-ts.mjs tests/bench/block-write.bench.ts [writes per round, 100]
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { encodeEntry, IPAM_API_VERSION, IPAM_GROUP, IPAM_VERSION, IPAMBLOCK_PLURAL, type IPAMBlock } from '../../operator/src/api/internal/ipamblock.js';
import { apiClientWith, pooledAuth } from '../../operator/src/framework/kube-connections.js';
import { KubeBlockIO } from '../../operator/src/service/block-client.js';
import { kubeconfigPath } from '../support/cluster.js';
import { applyIpamBlockCrd } from '../integration/helpers/ipam-stack.js';

const kc = new KubeConfig();
kc.loadFromFile(kubeconfigPath);
await applyIpamBlockCrd();
const io = new KubeBlockIO(kc);
const generated = apiClientWith(kc, CustomObjectsApi, pooledAuth(kc), 'bench');
const name = `block-write-bench-${process.pid}`;
const allocations: Record<string, string> = {};
for (let i = 0; i < 256; i++) {
  allocations[String(i)] = encodeEntry({ uid: `0f6bd1a8-1234-4321-abcd-${String(i).padStart(12, '0')}`, seq: i + 1, pod: `bench-alloc-da5d3d/b-${i}`, nic: 'eth0', cid: `cid-b-${i}-9f3c2d1e0b4a59687766554433221100ffeeddccbbaa`, node: 'bench-node', at: '2026-11-22T03:00:00Z', ok: 'ReplicaSet/web-7d4b9c8f6' });
}
let block = await io.create({ apiVersion: IPAM_API_VERSION, kind: 'IPAMBlock', metadata: { name }, spec: { pool: 'block-write-bench', cidr: '10.99.0.0/24', seq: 256, allocated: 256, allocations } });
process.stderr.write(`[bench:block-write] block of ${JSON.stringify(block).length} bytes\n`);
const writes = Number(process.argv[2] ?? 100);
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const variants: Record<string, (b: IPAMBlock) => Promise<IPAMBlock>> = {
  'client-node CustomObjectsApi': async (b) => (await generated.replaceClusterCustomObject({ group: IPAM_GROUP, version: IPAM_VERSION, plural: IPAMBLOCK_PLURAL, name, body: b })) as IPAMBlock,
  'KubeBlockIO (plain JSON)': (b) => io.replace(b),
};
try {
  for (let round = 0; round < 3; round++) {
    for (const [via, replace] of Object.entries(variants)) {
      const c0 = cpuMs();
      const t0 = performance.now();
      for (let i = 0; i < writes; i++) {
        block.spec.seq++;
        block = await replace(block);
      }
      console.log(JSON.stringify({ via, cpuMsPerWrite: +((cpuMs() - c0) / writes).toFixed(2), wallMsPerWrite: +((performance.now() - t0) / writes).toFixed(2) }));
    }
  }
} finally {
  await io.delete(name, block.metadata.resourceVersion ?? '');
}
