// CLI entry of the node simulator: `npm run nodesim -- --help`.
// One process hosts one or many simulated nodes. Its life is the machines' life:
//   start          = power on: stale pod netns of its nodes are removed (no CNI DEL: they died with
//                    the machine), IPAM state (host-local dataDir) is kept, the nodes register and
//                    heartbeat, every pod still bound gets a new sandbox (new container id, CNI ADD)
//   SIGKILL        = power off: nothing runs, heartbeats stop, sandboxes are lost
//   SIGTERM/SIGINT = kubelet stop: watches and heartbeats end, sandboxes stay (no CNI DEL); the
//                    next start adopts them (a kubelet restart is not a reboot)
//   SIGUSR1        = print a JSON summary line on stdout
//   SIGUSR2        = print it, then reset the counters and latency samples (a benchmark phase boundary)
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command, RunOptions } from './config.js';
import { USAGE, parseCommand, renderNetwork } from './config.js';
import { EventRecorder } from './events.js';
import { makeClients } from './kube.js';
import { SimKubelet } from './kubelet.js';
import { log, setLogLevel } from './log.js';
import { Metrics } from './metrics.js';
import {
  delNetns,
  ensureNodeNetwork,
  ensureSwitch,
  isOurNetns,
  listNetns,
  netnsExists,
  nodeNetns,
  podNetnsPrefix,
  removeNodeNetwork,
  removeSwitchIfUnused,
} from './netns.js';
import { SimNode } from './node.js';
import { Runtime } from './runtime.js';
import type { SandboxRecord } from './sandboxes.js';
import { listAllSandboxes, listSandboxes, nodeStateDir } from './sandboxes.js';

const stoppedMarker = (stateDir: string, node: string): string => join(nodeStateDir(stateDir, node), 'kubelet-stopped');

function out(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function run(o: RunOptions): Promise<void> {
  setLogLevel(o.logLevel);
  const bootId = randomUUID();
  const metrics = new Metrics();
  const clients = makeClients(o.kubeconfig);
  mkdirSync(o.stateDir, { recursive: true });

  let kubeletVersion = 'v0.0.0-spts-nodesim';
  try {
    kubeletVersion = (await clients.version.getCode()).gitVersion;
  } catch (e) {
    log.warn('cannot read apiserver version', { error: String(e) });
  }

  // A node whose previous process stopped gracefully (marker file) is a kubelet restart: its
  // sandboxes are alive and adopted. Otherwise this is a power-on after a power-off.
  const restarted = new Set<string>();
  for (const n of o.nodes) {
    const marker = stoppedMarker(o.stateDir, n.name);
    if (existsSync(marker)) {
      restarted.add(n.name);
      rmSync(marker, { force: true });
    }
  }

  // Power on, step 1: the pod namespaces of before are gone with the machine (no CNI DEL here).
  const existing = listNetns();
  for (const n of o.nodes) {
    if (restarted.has(n.name)) continue;
    for (const ns of existing.filter((x) => x.startsWith(podNetnsPrefix(n.name)))) {
      await delNetns(ns);
      metrics.staleNetnsRemoved++;
    }
  }
  if (metrics.staleNetnsRemoved) log.info('removed stale pod netns from before power-on', { count: metrics.staleNetnsRemoved });
  if (o.mode === 'netns') {
    await ensureSwitch();
    for (const n of o.nodes) await ensureNodeNetwork(n.name, `${n.ip}/16`);
  }

  const nodes: SimNode[] = [];
  const kubelets: SimKubelet[] = [];
  for (const n of o.nodes) {
    const nlog = log.child({ node: n.name });
    const dir = nodeStateDir(o.stateDir, n.name);
    mkdirSync(dir, { recursive: true });
    const network = renderNetwork(o.cniConfigTemplate, {
      NODE_NAME: n.name,
      NODE_INDEX: String(n.index),
      NODE_IP: n.ip,
      NODE_STATE_DIR: dir,
      STATE_DIR: o.stateDir,
    });
    let dead = listSandboxes(o.stateDir, n.name);
    let adopted: SandboxRecord[] = [];
    if (restarted.has(n.name)) {
      // Alive = ADD completed and (netns mode) its namespace is still there.
      const alive = (r: SandboxRecord) => r.mode === 'host-network' || (r.result !== undefined && (r.mode !== 'netns' || netnsExists(r.netns)));
      adopted = dead.filter(alive);
      dead = dead.filter((r) => !alive(r));
      nlog.info('kubelet restart: adopting sandboxes', { adopted: adopted.length, dead: dead.length });
    } else if (dead.length) {
      nlog.info('sandboxes lost in the power-off', { count: dead.length, release: o.releaseDeadSandboxes });
    }
    const node = new SimNode(
      {
        name: n.name,
        index: n.index,
        ip: n.ip,
        cpu: o.cpu,
        memory: o.memory,
        pods: o.pods,
        labels: o.labels,
        taints: o.taints,
        kubeletVersion,
        leaseDurationSeconds: o.leaseDurationSeconds,
        heartbeatMs: o.heartbeatMs,
        bootId,
      },
      clients,
      nlog,
    );
    const runtime = new Runtime(
      { mode: o.mode, node: n.name, nodeIP: n.ip, stateDir: o.stateDir, cniPath: o.cniPath, cniTimeoutMs: o.cniTimeoutMs, network, bootId, delFaults: o.delFaults },
      metrics,
    );
    const kubelet = new SimKubelet(
      {
        node: n.name,
        nodeIP: n.ip,
        stateDir: o.stateDir,
        workers: o.workers,
        retryBaseMs: o.retryBaseMs,
        retryMaxMs: o.retryMaxMs,
        maxGraceMs: o.maxGraceMs,
        releaseDeadSandboxes: o.releaseDeadSandboxes,
        bootId,
      },
      clients,
      runtime,
      new EventRecorder(clients, n.name, nlog, metrics),
      metrics,
      nlog,
      dead,
      adopted,
    );
    nodes.push(node);
    kubelets.push(kubelet);
  }

  // Register all nodes (retrying: the apiserver may still be coming up), then heartbeat and sync.
  await Promise.all(
    nodes.map(async (node) => {
      for (let attempt = 1; ; attempt++) {
        try {
          await node.register();
          return;
        } catch (e) {
          if (attempt >= 30) throw e;
          log.warn('node registration failed, retrying', { node: node.spec.name, attempt, error: String(e) });
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    }),
  );
  for (const node of nodes) node.start();
  for (const k of kubelets) k.start();

  const summary = () =>
    metrics.summary({
      mode: o.mode,
      nodes: o.nodes.map((n) => n.name),
      bootId,
      pods: kubelets.reduce((a, k) => a + k.podCount(), 0),
      sandboxes: kubelets.reduce((a, k) => a + k.sandboxCount(), 0),
      heartbeats: nodes.reduce((a, n) => a + n.heartbeats, 0),
      heartbeatFailures: nodes.reduce((a, n) => a + n.heartbeatFailures, 0),
    });
  out({ ready: { nodes: o.nodes, mode: o.mode, bootId, pid: process.pid, stateDir: o.stateDir } });
  log.info('nodesim ready', { nodes: o.nodes.map((n) => n.name), mode: o.mode, cniConfig: o.cniConfigFile });

  process.on('SIGUSR1', () => out({ summary: summary() }));
  process.on('SIGUSR2', () => {
    out({ summary: summary() });
    metrics.reset();
  });
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info('stopping (no CNI DEL: sandboxes stay)', { signal });
    for (const n of nodes) n.stop();
    const drained = await Promise.all(kubelets.map((k) => k.stop(20_000)));
    if (drained.some((d) => !d)) log.warn('some pod workers were still busy at exit');
    // Next start is a kubelet restart (sandboxes adopted), not a power-on.
    for (const n of o.nodes) writeFileSync(stoppedMarker(o.stateDir, n.name), new Date().toISOString());
    if (o.mode === 'netns') {
      // A node namespace without pod sandboxes is removed (the test expects no netns of ours left);
      // one that still holds pods stays, as its pods' macvlan links hang off its eth0.
      const left = listNetns();
      for (const n of o.nodes) {
        const busy = left.some((x) => x.startsWith(podNetnsPrefix(n.name))) || listSandboxes(o.stateDir, n.name).length > 0;
        if (!busy) await removeNodeNetwork(n.name).catch((e) => log.warn('cannot remove node netns', { node: n.name, error: String(e) }));
      }
      await removeSwitchIfUnused().catch(() => false);
    }
    const s = summary();
    out({ summary: s });
    if (o.summaryFile) writeFileSync(o.summaryFile, JSON.stringify(s, null, 2));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

async function cleanup(stateDir: string, only: string[] | undefined, purge: boolean): Promise<void> {
  const mine = (ns: string): boolean => {
    if (!isOurNetns(ns)) return false;
    if (!only) return true;
    return only.some((n) => ns === nodeNetns(n) || ns.startsWith(podNetnsPrefix(n)));
  };
  const removed: string[] = [];
  // Pods first, then nodes, then the switch (if nothing uses it any more).
  const all = listNetns().filter(mine);
  for (const ns of [...all.filter((n) => n.startsWith('spts-pod_')), ...all.filter((n) => n.startsWith('spts-node-'))]) {
    await delNetns(ns);
    removed.push(ns);
  }
  if (await removeSwitchIfUnused()) removed.push('spts-switch');
  if (purge) rmSync(stateDir, { recursive: true, force: true });
  out({ cleanup: { removedNetns: removed, purgedState: purge ? stateDir : null } });
}

async function main(): Promise<void> {
  let c: Command;
  try {
    c = parseCommand(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`nodesim: ${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  switch (c.cmd) {
    case 'help':
      process.stdout.write(USAGE);
      return;
    case 'cleanup':
      return cleanup(c.stateDir, c.nodes, c.purgeState);
    case 'sandboxes':
      out(listAllSandboxes(c.stateDir));
      return;
    case 'run':
      return run(c.opts);
  }
}

main().catch((e: unknown) => {
  log.error('nodesim failed', { error: e });
  process.exit(1);
});
