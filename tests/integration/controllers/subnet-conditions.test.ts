// SpiderSubnet conditions on the real apiserver, written by the subnet status controller through the
// ledger writer as the operator runs them (scoped to this run's subnet and pool): a subnet whose
// addresses are all carved into pools is Exhausted=True at observedGeneration = generation; a spec
// edit that adds an address makes it Exhausted=False at the new generation.
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import type { Condition } from '../../../operator/src/api/v2beta1/meta.js';
import { newSubnetStatusController } from '../../../operator/src/controllers/autopool/controller.js';
import { KubeAutoPoolIO } from '../../../operator/src/controllers/autopool/kube-io.js';
import { SubnetLedger } from '../../../operator/src/controllers/autopool/subnet-ledger.js';
import { newPoolInformer, newSubnetInformer } from '../../../operator/src/controllers/informers.js';
import { Manager } from '../../../operator/src/framework/manager.js';
import { kubectl } from '../../support/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { type Env, RUN_LABEL, applyJSON, setUp, tearDown } from './env.js';

jest.setTimeout(120_000);

const id = randomBytes(3).toString('hex');
const subnet = `ctl-ss-${id}`;
const pool = `ctl-ss-pool-${id}`;
const net = `10.249.${parseInt(id.slice(0, 2), 16)}`;
let env: Env;
let mgr: Manager;

interface SubnetJSON {
  metadata: { generation: number };
  status?: { freeIPCount?: number; conditions?: Condition[] };
}
const getSubnet = async () => JSON.parse(await kubectl(['get', 'spidersubnet', subnet, '-o', 'json'])) as SubnetJSON;
const exhausted = (s: SubnetJSON) => s.status?.conditions?.find((c) => c.type === 'Exhausted');

beforeAll(async () => {
  env = await setUp('ctl-ss');
  await applyJSON({ apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderSubnet', metadata: { name: subnet, labels: { [RUN_LABEL]: id } }, spec: { subnet: `${net}.0/24`, ips: [`${net}.10-${net}.11`] } });
  await applyJSON({
    apiVersion: 'spiderpool.spidernet.io/v2beta1',
    kind: 'SpiderIPPool',
    metadata: { name: pool, labels: { [RUN_LABEL]: id, 'ipam.spidernet.io/owner-spider-subnet': subnet } },
    spec: { subnet: `${net}.0/24`, ips: [`${net}.10-${net}.11`] },
  });
  // Every address of the subnet carved into the pool (what the auto-pool reconciler records).
  await kubectl(['patch', 'spidersubnet', subnet, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { controlledIPPools: JSON.stringify({ [pool]: { ips: [`${net}.10-${net}.11`] } }) } })]);
  const subnets = newSubnetInformer(env.kc, env.log, { labelSelector: `${RUN_LABEL}=${id}` });
  const pools = newPoolInformer(env.kc, env.log, { labelSelector: `${RUN_LABEL}=${id}` });
  const ledger = new SubnetLedger(new KubeAutoPoolIO(env.kc), () => []);
  mgr = new Manager({ log: env.log, caches: [subnets, pools], controllers: [{ controller: newSubnetStatusController({ subnets, pools, ledger, reserved: () => [], log: env.log }) }] });
  await mgr.start();
}, 10 * 60_000);

afterAll(async () => {
  await mgr?.stop();
  await kubectl(['delete', 'spidersubnet', subnet, '--ignore-not-found', '--wait=false']).catch(() => undefined);
  // A finalizer (webhook) may hold it while the pool exists: the pool goes in tearDown, then the subnet.
  if (env) await tearDown(env, [pool]);
  await kubectl(['delete', 'spidersubnet', subnet, '--ignore-not-found']).catch(() => undefined);
});

it('a fully carved subnet is Exhausted=True at the current generation; adding an address makes it False at the new one', async () => {
  const full = await waitFor('Exhausted=True', async () => {
    const s = await getSubnet();
    return { ok: exhausted(s)?.status === 'True', value: s, detail: JSON.stringify(s.status) };
  }, 30_000, 200);
  expect(exhausted(full)).toMatchObject({ reason: 'NoFreeIP', observedGeneration: full.metadata.generation });
  expect(exhausted(full)!.message).toBe(`subnet ${subnet} has no address left for auto pools (2/2 in pools); add IPs to spec.ips or remove workloads`);
  expect(full.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Carvable' });

  await kubectl(['patch', 'spidersubnet', subnet, '--type=merge', '-p', JSON.stringify({ spec: { ips: [`${net}.10-${net}.12`] } })]);
  const grown = await waitFor('Exhausted=False at the new generation', async () => {
    const s = await getSubnet();
    const c = exhausted(s);
    return { ok: c?.status === 'False' && c.observedGeneration === s.metadata.generation, value: s, detail: JSON.stringify(s) };
  }, 30_000, 200);
  expect(grown.metadata.generation).toBeGreaterThan(full.metadata.generation);
  expect(exhausted(grown)!.message).toBe('1 of 3 addresses free');
  expect(grown.status?.freeIPCount).toBe(1);
});
