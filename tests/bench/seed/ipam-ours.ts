// Setup hook for our IPAM (the only implementation-specific file of the harness): the real operator
// process (operator/src/main.ts) + the built shim as the CNI IPAM plugin, and one SpiderIPPool per
// family holding exactly the scenario's addresses (1000 for IPs = pods), annotated on every
// Deployment (ipam.spidernet.io/ippool). The shim runs in the root namespace (nodesim ipam-only
// mode). By default it asks its node's spiderpool-ts-agent (ADR 0013: one agent process per simulated
// node, with that node's certificate, on a unix socket; the agent holds one mTLS connection to the
// operator's gRPC port on 127.0.0.1); BENCH_OURS_TRANSPORT=direct makes the shim dial the operator
// itself, once per CNI call, as before. Leaks and duplicates come from the IPAMBlocks through
// `ipam check`'s library (operator/src/cli/check.ts).
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IPAM_GROUP, IPAM_VERSION, IPAMBLOCK_PLURAL, LABEL_BLOCK_POOL, type IPAMBlock } from '../../../operator/src/api/internal/ipamblock.js';
import { ANNO_POD_IPPOOL } from '../../../operator/src/api/v2beta1/constants.js';
import { analyze, readSnapshot, recordsOf } from '../../../operator/src/cli/check.js';
import { poolLabelValue } from '../../../operator/src/service/block-layout.js';
import { AgentProcess } from '../../integration/agent/agent-process.js';
import { AGENT_BUNDLE, applyIpamBlockCrd, buildShimInto, freePort, operatorEnv, writePki, writeShimConflist } from '../../integration/helpers/ipam-stack.js';
import { OperatorProcess } from '../../integration/helpers/operator-process.js';
import { kubectl } from '../../support/cluster.js';
import { type BenchIpam, type IpamContext, type PreparedIpam, v4Add } from './ipam.js';
import { addressesPerFamily } from './scenario.js';

const V4_BASE = '198.18.224.0'; // 198.18.224.0/21: up to 2046 addresses
const V6_SUBNET = 'fd53:bec::/112';

function pools(ctx: IpamContext): Array<{ name: string; family: 4 | 6; spec: Record<string, unknown> }> {
  const n = addressesPerFamily(ctx.scenario);
  if (n > 2000) throw new Error(`ours: ${n} addresses do not fit the benchmark's /21`);
  const out: Array<{ name: string; family: 4 | 6; spec: Record<string, unknown> }> = [
    { name: `bench-${ctx.run}-v4`, family: 4, spec: { subnet: '198.18.224.0/21', ips: [`${v4Add(V4_BASE, 1)}-${v4Add(V4_BASE, n)}`], gateway: '198.18.231.254' } },
  ];
  if (ctx.scenario.dual) out.push({ name: `bench-${ctx.run}-v6`, family: 6, spec: { subnet: V6_SUBNET, ips: [`fd53:bec::1-fd53:bec::${n.toString(16)}`], gateway: 'fd53:bec::ffff' } });
  return out;
}

export const ours: BenchIpam = {
  name: 'spiderpool-ts',
  async prepare(ctx: IpamContext): Promise<PreparedIpam> {
    const certDir = join(ctx.workDir, 'certs');
    const cniBin = join(ctx.workDir, 'cni-bin');
    ctx.say('building the shim');
    buildShimInto(cniBin);
    await writePki(certDir, { caName: `bench-${ctx.run}`, dnsName: 'spiderpool-ts-operator.bench', nodes: ctx.nodes.map((n) => n.name) });
    await applyIpamBlockCrd();
    const ps = pools(ctx);
    for (const p of ps) await kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'spiderpool.spidernet.io/v2beta1', kind: 'SpiderIPPool', metadata: { name: p.name }, spec: p.spec }) });
    const grpcPort = await freePort();
    const healthPort = await freePort();
    const env = operatorEnv({ kubeconfig: ctx.kubeconfig, podName: `bench-operator-${ctx.run}`, namespace: ctx.namespace, certDir, grpcPort, healthPort });
    env.ENABLE_IPV6 = ctx.scenario.dual ? 'true' : 'false';
    env.LOG_LEVEL = 'warn';
    // BENCH_OPERATOR_ENV="K=V,K=V": extra operator settings for a run (e.g. longer leader-election
    // deadlines on an overloaded machine); recorded in the run's log line below.
    const extraEnv = Object.fromEntries((process.env.BENCH_OPERATOR_ENV ?? '').split(',').filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')).trim(), kv.slice(kv.indexOf('=') + 1).trim()]));
    Object.assign(env, extraEnv);
    const operator = new OperatorProcess(env, join(ctx.workDir, 'operator.log'));
    ctx.say('starting the operator', { log: operator.logFile, extraEnv });
    await operator.start();
    const transport = process.env.BENCH_OURS_TRANSPORT ?? 'agent';
    if (transport !== 'agent' && transport !== 'direct') throw new Error(`BENCH_OURS_TRANSPORT=${transport}: expected "agent" (default) or "direct"`);
    // Unix socket paths are limited to 107 bytes: the agents' sockets live in a short temp dir.
    const socketDir = transport === 'agent' ? mkdtempSync(join(tmpdir(), 'spts-agents-')) : undefined;
    const agents: AgentProcess[] = [];
    if (socketDir) {
      const logDir = join(ctx.workDir, 'agents');
      mkdirSync(logDir, { recursive: true });
      for (const n of ctx.nodes) {
        agents.push(
          new AgentProcess({
            bundle: join(cniBin, AGENT_BUNDLE),
            socketPath: join(socketDir, `${n.name}.sock`),
            endpoint: `127.0.0.1:${grpcPort}`,
            caFile: join(certDir, n.name, 'ca.crt'),
            certFile: join(certDir, n.name, 'node.crt'),
            keyFile: join(certDir, n.name, 'node.key'),
            serverName: '127.0.0.1',
            timeoutMs: 10_000,
            logLevel: 'warn',
            logFile: join(logDir, `${n.name}.log`),
          }),
        );
      }
    }
    const stopAgents = async () => {
      await Promise.all(agents.map(async (a) => (await a.stop().catch(() => undefined), a.close())));
      if (socketDir) rmSync(socketDir, { recursive: true, force: true });
    };
    if (agents.length) {
      ctx.say('starting one spiderpool-ts-agent per node', { count: agents.length, sockets: socketDir });
      try {
        await Promise.all(agents.map((a) => a.start()));
      } catch (e) {
        await stopAgents();
        await operator.stop().catch(() => undefined);
        throw e;
      }
    } else {
      ctx.say('the shim dials the operator directly (BENCH_OURS_TRANSPORT=direct)');
    }
    const conflist = writeShimConflist(join(ctx.workDir, 'shim.conflist'), {
      network: 'spts-bench',
      certDir,
      relayPort: grpcPort,
      ...(socketDir ? { agentSocket: join(socketDir, '${NODE_NAME}.sock') } : {}),
    });

    const kc = new KubeConfig();
    kc.loadFromFile(ctx.kubeconfig);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const names = ps.map((p) => p.name);
    const blocks = async (): Promise<IPAMBlock[]> => {
      const out: IPAMBlock[] = [];
      for (const pool of names) {
        const list = (await custom.listClusterCustomObject({ group: IPAM_GROUP, version: IPAM_VERSION, plural: IPAMBLOCK_PLURAL, labelSelector: `${LABEL_BLOCK_POOL}=${poolLabelValue(pool)}` })) as { items: IPAMBlock[] };
        out.push(...list.items.filter((b) => b.spec.pool === pool));
      }
      return out;
    };
    const annotation: Record<string, string[]> = { ipv4: [names[0]!] };
    if (ctx.scenario.dual) annotation.ipv6 = [names[1]!];
    return {
      conflist,
      cniPath: cniBin,
      podAnnotations: { [ANNO_POD_IPPOOL]: JSON.stringify(annotation) },
      allocated: async () => recordsOf(await blocks()).records.map((r) => r.ip),
      findings: async () => {
        const found = analyze(await readSnapshot(kc), { scope: { pools: names, namespaces: [ctx.namespace] } });
        const kinds: Record<string, number> = {};
        for (const f of found) kinds[f.kind] = (kinds[f.kind] ?? 0) + 1;
        return { count: found.length, kinds };
      },
      teardown: async () => {
        await stopAgents();
        await operator.stop().catch(() => undefined);
        for (const pool of names) {
          await kubectl(['delete', 'ipamblocks.ipam.spiderpool-ts.io', '-l', `${LABEL_BLOCK_POOL}=${poolLabelValue(pool)}`, '--ignore-not-found']).catch(() => undefined);
          await kubectl(['delete', 'spiderippool', pool, '--ignore-not-found']).catch(() => undefined);
        }
      },
    };
  },
};
