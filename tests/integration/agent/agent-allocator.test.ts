// The agent path against the real allocator on the local control plane: the built shim → a real
// spiderpool-ts-agent process → a TCP "Service" (a proxy that routes each NEW connection to the
// current leader, as a Service does) → the operator's IpamGrpcServer + AllocatorService writing real
// IPAMBlocks. A leader change moves the Service; the agent's persistent connection still reaches the
// old leader, which answers not-leader; the agent reconnects and the ADD lands on the new leader.
import { randomBytes } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePki, type Pki } from '../../../ipam-plugin/test/support/pki.js';
import { IpamGrpcServer, type Leadership } from '../../../operator/src/service/grpc-server.js';
import { kubectl, repoRoot } from '../../support/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { createPods, createPool, type Env, type Instance, recordedAddresses, setUp, startInstance, tearDown } from '../allocator/harness.js';
import { AgentProcess } from './agent-process.js';

const pool = `agent-it-${randomBytes(3).toString('hex')}`;
let env: Env;
let inst: Instance;
let pods: Map<string, string>;
let pki: Pki;
let dir: string;
let shim: string;
let agent: AgentProcess;
const servers: IpamGrpcServer[] = [];
let service: Server;
const proxied = new Set<Socket>();
let target = 0;
const lead: Leadership[] = [{ leading: true }, { leading: false }];
const ports: number[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spts-agent-alloc-'));
  execFileSync(process.execPath, [join(repoRoot, 'ipam-plugin', 'scripts', 'build.mjs')], { stdio: ['ignore', 'ignore', 'pipe'] });
  shim = join(dir, 'spiderpool-ts-ipam');
  copyFileSync(join(repoRoot, 'ipam-plugin', 'dist', 'spiderpool-ts-ipam'), shim);
  chmodSync(shim, 0o755);
  const bundle = join(dir, 'spiderpool-ts-agent.mjs');
  copyFileSync(join(repoRoot, 'ipam-plugin', 'dist', 'spiderpool-ts-agent.mjs'), bundle);

  env = await setUp('agent-alloc');
  await createPool(pool, '10.237.0.0/24', '10.237.0.10-10.237.0.40');
  pods = await createPods(env, 'a', 3, pool);
  inst = await startInstance(env, 'agent');
  pki = makePki(env.node);
  // Two replicas sharing the allocator (a transport test: who leads is what matters here).
  for (const i of [0, 1]) {
    const server = new IpamGrpcServer({ service: inst.service, leadership: () => lead[i]!, tls: { certChain: pki.serverCert, privateKey: pki.serverKey, clientCA: pki.ca }, log: env.log });
    servers.push(server);
    ports.push(await server.listen('127.0.0.1', 0));
  }
  service = createServer((client) => {
    const upstream = connect(ports[target]!, '127.0.0.1');
    proxied.add(client);
    client.on('close', () => proxied.delete(client));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
  const servicePort = (service.address() as { port: number }).port;

  agent = new AgentProcess({
    bundle,
    socketPath: join(dir, 'agent.sock'),
    endpoint: `127.0.0.1:${servicePort}`,
    caFile: pki.caFile,
    certFile: pki.clientCertFile,
    keyFile: pki.clientKeyFile,
    serverName: '127.0.0.1',
    logLevel: 'debug',
    logFile: join(dir, 'agent.log'),
  });
  await agent.start();
}, 10 * 60_000);

afterAll(async () => {
  await agent?.stop();
  agent?.close();
  for (const s of proxied) s.destroy();
  await new Promise<void>((r) => (service ? service.close(() => r()) : r()));
  await Promise.all(servers.map((s) => s.stop(1000)));
  await inst?.stop();
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (env) await tearDown(env, [pool]);
});

function runShim(command: 'ADD' | 'DEL', pod: string): Promise<{ exitCode: number | null; json: Record<string, unknown> | undefined; stdout: string }> {
  const conf = JSON.stringify({
    cniVersion: '1.0.0',
    name: 'agent-it',
    type: 'macvlan',
    ipam: { type: 'spiderpool-ts-ipam', agent_socket: agent.opts.socketPath, node_name: env.node, log_file_path: join(dir, 'shim.log'), timeout_ms: 20_000 },
  });
  const cniEnv = {
    CNI_COMMAND: command,
    CNI_CONTAINERID: `cid-${pod}`,
    CNI_NETNS: `/var/run/netns/${pod}`,
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/opt/cni/bin',
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${env.ns};K8S_POD_NAME=${pod};K8S_POD_UID=${pods.get(pod)}`,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(shim, [], { env: cniEnv, stdio: ['pipe', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, json: stdout ? (JSON.parse(stdout) as Record<string, unknown>) : undefined }));
    child.stdin.end(conf);
  });
}

const addressOf = (json: Record<string, unknown> | undefined) => ((json?.ips as { address: string }[] | undefined)?.[0]?.address ?? '').split('/')[0]!;

describe('shim → agent → allocator on the real apiserver', () => {
  it('ADD records the address in the IPAMBlocks; a leader change is followed; DEL of a deleted pod releases it', async () => {
    const first = await runShim('ADD', 'a-0');
    expect(first.exitCode).toBe(0);
    const ip0 = addressOf(first.json);
    expect(ip0).toMatch(/^10\.237\.0\.\d+$/);
    expect((await recordedAddresses(env, pool)).get(ip0)).toBe(pods.get('a-0'));

    // Leader change: replica 1 leads, the Service routes new connections to it; replica 0 answers not-leader.
    lead[0] = { leading: false, leader: `127.0.0.1:${ports[1]}` };
    lead[1] = { leading: true };
    target = 1;
    const second = await runShim('ADD', 'a-1');
    expect(second.exitCode).toBe(0);
    const ip1 = addressOf(second.json);
    expect(ip1).toMatch(/^10\.237\.0\.\d+$/);
    expect(ip1).not.toBe(ip0);
    expect(agent.lines.some((l) => l.includes('dropping the operator connection') && l.includes('not-leader answer'))).toBe(true);

    // While the pod lives, DEL keeps its address (a recreated sandbox gets it back); once it is gone,
    // DEL releases it. The allocator sees the deletion through its informer: poll, bounded.
    const kept = await runShim('DEL', 'a-0');
    expect(kept.exitCode).toBe(0);
    expect((await recordedAddresses(env, pool)).get(ip0)).toBe(pods.get('a-0'));
    await kubectl(['delete', 'pod', '-n', env.ns, 'a-0', '--grace-period=0', '--force']);
    const after = await waitFor(
      'DEL through the agent to release the deleted pod\'s address',
      async () => {
        const del = await runShim('DEL', 'a-0');
        const rec = await recordedAddresses(env, pool);
        return { ok: del.exitCode === 0 && !rec.has(ip0), value: rec, detail: `exit ${del.exitCode} ${del.stdout}; ${ip0} recorded: ${rec.has(ip0)}` };
      },
      30_000,
      250,
    );
    expect(after.get(ip1)).toBe(pods.get('a-1'));
  });

  it('a pod that is not on the agent\'s node is refused by the operator (the socket adds no authority)', async () => {
    // The operator sees env.node's certificate; the request names another node → UNAUTHENTICATED, CNI 999.
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'agent-it', type: 'macvlan', ipam: { type: 'spiderpool-ts-ipam', agent_socket: agent.opts.socketPath, node_name: 'someone-else', log_file_path: join(dir, 'shim.log') } });
    const out = await new Promise<string>((resolve) => {
      const child = spawn(shim, [], {
        env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'cid-x', CNI_NETNS: '/var/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', CNI_ARGS: `K8S_POD_NAMESPACE=${env.ns};K8S_POD_NAME=a-2;K8S_POD_UID=${pods.get('a-2')}` },
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      let s = '';
      child.stdout.on('data', (c: Buffer) => (s += c));
      child.on('close', () => resolve(s));
      child.stdin.end(conf);
    });
    expect(JSON.parse(out)).toMatchObject({ code: 999, msg: expect.stringContaining('[unauthenticated') });
    expect([...(await recordedAddresses(env, pool)).values()]).not.toContain(pods.get('a-2'));
  });
});
