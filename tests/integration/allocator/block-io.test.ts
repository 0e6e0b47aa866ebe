// KubeBlockIO against the real kube-apiserver: the compare-and-swap contract the committer relies on
// (ADR 0005). Every write names the version it was computed from; a lost race surfaces as
// BlockConflict, never as success or as a generic error. The block client sends plain JSON requests
// (framework/kube-json-client.ts), so this checks the status mapping of that path end to end.
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { IPAM_API_VERSION, encodeEntry, type IPAMBlock } from '../../../operator/src/api/internal/ipamblock.js';
import { BlockConflict, KubeBlockIO } from '../../../operator/src/service/block-client.js';
import { kubeconfigPath } from '../../support/cluster.js';
import { applyIpamBlockCrd } from '../helpers/ipam-stack.js';

jest.setTimeout(60_000);

const name = `block-io-${randomBytes(4).toString('hex')}`;
let io: KubeBlockIO;

const block = (seq: number, offsets: number[]): IPAMBlock => ({
  apiVersion: IPAM_API_VERSION,
  kind: 'IPAMBlock',
  metadata: { name, labels: { 'ipam.spiderpool-ts.io/pool': 'block-io-test' } },
  spec: {
    pool: 'block-io-test',
    cidr: '198.19.77.0/24',
    seq,
    allocated: offsets.length,
    allocations: Object.fromEntries(offsets.map((o) => [String(o), encodeEntry({ uid: `uid-${o}`, seq: o + 1, pod: `ns/p-${o}`, nic: 'eth0' })])),
  },
});

beforeAll(async () => {
  await applyIpamBlockCrd();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  io = new KubeBlockIO(kc);
});

afterAll(async () => {
  const current = await io.get(name);
  if (current) await io.delete(name, current.metadata.resourceVersion ?? '');
});

test('create, read, replace and delete are guarded by the resourceVersion', async () => {
  expect(await io.get(name)).toBeUndefined();

  const created = await io.create(block(1, [0]));
  expect(created.metadata.resourceVersion).toMatch(/^\d+$/);
  expect(created.spec.allocations['0']).toBe(block(1, [0]).spec.allocations['0']);
  // A second create of the same block is a lost race, not an error.
  await expect(io.create(block(1, [0]))).rejects.toBeInstanceOf(BlockConflict);

  const read = await io.get(name);
  expect(read?.metadata.resourceVersion).toBe(created.metadata.resourceVersion);

  const next = { ...block(2, [0, 1]), metadata: { ...block(2, [0, 1]).metadata, resourceVersion: created.metadata.resourceVersion } };
  const replaced = await io.replace(next);
  expect(Object.keys(replaced.spec.allocations).sort()).toEqual(['0', '1']);
  expect(replaced.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);

  // Computed from the old version: refused, and the stored block is unchanged.
  const stale = { ...block(3, [0, 1, 2]), metadata: { ...block(3, [0, 1, 2]).metadata, resourceVersion: created.metadata.resourceVersion } };
  await expect(io.replace(stale)).rejects.toBeInstanceOf(BlockConflict);
  expect((await io.get(name))?.spec.seq).toBe(2);

  await expect(io.delete(name, created.metadata.resourceVersion ?? '')).rejects.toBeInstanceOf(BlockConflict);
  await io.delete(name, replaced.metadata.resourceVersion ?? '');
  expect(await io.get(name)).toBeUndefined();
  // Replacing or deleting a block that is gone is a lost race too (someone deleted it under us).
  await expect(io.replace({ ...next, metadata: { ...next.metadata, resourceVersion: replaced.metadata.resourceVersion } })).rejects.toBeInstanceOf(BlockConflict);
  await expect(io.delete(name, replaced.metadata.resourceVersion ?? '')).rejects.toBeInstanceOf(BlockConflict);
});

test('a block the schema refuses is an error naming the block and the HTTP answer, not a conflict', async () => {
  const bad = block(1, [0]);
  (bad.spec as unknown as Record<string, unknown>).seq = 'not-a-number';
  const err = await io.create(bad).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  expect(err).not.toBeInstanceOf(BlockConflict);
  expect((err as Error).message).toMatch(new RegExp(`IPAMBlock ${name}: create failed: HTTP 422`));
});
