// Release on pod deletion against the real apiserver: a pod force-deleted without a CNI DEL (its node
// is gone) has its address released by the pod-release controller; a live pod's is kept.
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { podReleaseController } from '../../../operator/src/service/pod-release.js';
import { kubectl } from '../../support/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { createPods, createPool, type Env, recordedAddresses, setUp, startInstance, tearDown } from './harness.js';

jest.setTimeout(180_000);

const pool = `alloc-del-${randomBytes(3).toString('hex')}`;
let env: Env;

beforeAll(async () => {
  env = await setUp('alloc-del');
  await createPool(pool, '10.249.0.0/16', '10.249.1.0-10.249.1.255');
}, 10 * 60_000);

afterAll(async () => {
  if (env) await tearDown(env, [pool]);
});

it('releases the addresses of a deleted pod and keeps those of live pods', async () => {
  const pods = await createPods(env, 'd', 2, pool);
  const inst = await startInstance(env, 'del');
  const controller = podReleaseController({ service: inst.service, pods: inst.pods, log: env.log });
  controller.start();
  try {
    for (const [name, uid] of pods) {
      await inst.service.allocate({ containerId: `c-${name}`, netns: '', ifname: 'eth0', pod: { namespace: env.ns, name, uid }, nodeName: env.node, defaultIpv4Ippool: [], defaultIpv6Ippool: [], requestId: '', networkName: '' });
    }
    expect([...(await recordedAddresses(env, pool)).values()].sort()).toEqual([...pods.values()].sort());
    // No kubelet would ever confirm a graceful deletion: force it, as a node that is gone for good.
    await kubectl(['delete', 'pod', '-n', env.ns, 'd-0', '--grace-period=0', '--force']);
    await waitFor('the record of d-0 released', async () => {
      const uids = [...(await recordedAddresses(env, pool)).values()];
      return { ok: uids.length === 1 && uids[0] === pods.get('d-1'), detail: JSON.stringify(uids) };
    }, 20_000, 200);
  } finally {
    await controller.stop();
    await inst.stop();
  }
});
