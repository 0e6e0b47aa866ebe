// The auto-pool controller's log lines name the workload as kind, namespace and name. Its keys are
// `Kind/namespace/name` (or a third-party controller's key), so read as client-go's `namespace/name`
// every line said {"namespace":"Deployment","name":"ns/web"}.
import { Writable } from 'node:stream';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ANNO_SUBNET } from '../../src/api/v2beta1/constants.js';
import type { SpiderReservedIP } from '../../src/api/v2beta1/types.js';
import { applicationKeyFields, newAutoPoolController } from '../../src/controllers/autopool/controller.js';
import type { AutoPoolIO, PoolObject, SubnetObject } from '../../src/controllers/autopool/kube-io.js';
import type { PoolUsage } from '../../src/controllers/autopool/pool-usage.js';
import type { SubnetLedger } from '../../src/controllers/autopool/subnet-ledger.js';
import { thirdPartyKey } from '../../src/controllers/autopool/third-party.js';
import { WORKLOAD_KINDS, type WorkloadInformers, workloadKey } from '../../src/controllers/autopool/workloads.js';
import type { Informer } from '../../src/framework/informer.js';
import { createLogger } from '../../src/framework/logger.js';

/** An informer holding fixed objects, keyed namespace/name (what the controller and reconciler use of it). */
function fixedInformer<T extends { metadata?: { namespace?: string; name?: string } }>(objs: T[]): Informer<T & object> {
  const byKey = new Map(objs.map((o) => [o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : (o.metadata?.name ?? ''), o]));
  return {
    addEventHandler: () => () => undefined,
    list: () => [...byKey.values()],
    snapshot: () => [...byKey.values()],
    get: (k: string) => byKey.get(k),
    hasSynced: () => true,
    byIndex: () => [],
  } as unknown as Informer<T & object>;
}

describe('applicationKeyFields', () => {
  it('a built-in workload key: kind, namespace, name', () => {
    expect(applicationKeyFields(workloadKey('Deployment', 'ns', 'web'))).toEqual({ kind: 'Deployment', namespace: 'ns', name: 'web' });
    expect(applicationKeyFields(workloadKey('StatefulSet', 'db-ns', 'db'))).toEqual({ kind: 'StatefulSet', namespace: 'db-ns', name: 'db' });
  });

  it('a third-party controller key (its apiVersion has a slash): kind, namespace, name', () => {
    expect(applicationKeyFields(thirdPartyKey('apps.kruise.io/v1alpha1', 'CloneSet', 'ns', 'clone'))).toEqual({ kind: 'CloneSet', namespace: 'ns', name: 'clone' });
  });

  it('a key of neither form is logged whole as the name', () => {
    expect(applicationKeyFields('odd')).toEqual({ name: 'odd' });
  });
});

describe('auto-pool controller log lines', () => {
  it("a reconcile's lines carry controller, kind, namespace and name of the workload", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ stream: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(JSON.parse(c.toString()) as Record<string, unknown>), cb()) }) });
    // A Deployment whose subnet annotation does not parse: the reconciler warns on ctx.log and stops.
    const web = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { namespace: 'ns', name: 'web', uid: 'u1' },
      spec: { replicas: 1, selector: {}, template: { metadata: { annotations: { [ANNO_SUBNET]: 'not json' } } } },
    };
    const workloads = Object.fromEntries(WORKLOAD_KINDS.map((k) => [k, fixedInformer(k === 'Deployment' ? [web] : [])])) as unknown as WorkloadInformers;
    const ctl = newAutoPoolController({
      workloads,
      pools: fixedInformer<PoolObject>([]),
      subnets: fixedInformer<SubnetObject>([]),
      reservedIPs: fixedInformer<SpiderReservedIP & KubernetesObject>([]),
      io: {} as AutoPoolIO,
      ledger: {} as SubnetLedger,
      usage: {} as PoolUsage,
      defaultFlexibleIPNumber: 1,
      log,
    });
    ctl.start();
    const end = Date.now() + 5000;
    const rejected = () => lines.find((l) => l.message === 'auto pool annotations rejected');
    while (rejected() === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    await ctl.stop();
    expect(rejected()).toMatchObject({ level: 'warn', controller: 'auto-pool', kind: 'Deployment', namespace: 'ns', name: 'web' });
  });
});
