// The simulated container runtime (the part of containerd's CRI plugin that matters for IPAM):
// RunPodSandbox = netns + CNI ADD (with cleanup on failure), StopPodSandbox = CNI DEL + netns removal.
// Sandbox metadata is persisted (sandboxes.ts) before the network is set up, so a power-off in the
// middle of an ADD still leaves a record the powered-on node can release.
import type { V1Pod } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { CniRuntimeConf, NetworkConfigList } from './cni.js';
import { addIpamOnly, addNetworkList, delIpamOnly, delNetworkList, resultIPs } from './cni.js';
import type { DelFaults } from './config.js';
import type { Metrics } from './metrics.js';
import { createPodNetns, delNetns, netnsExists, netnsPath, nodeNetns, podNetns } from './netns.js';
import type { SandboxRecord } from './sandboxes.js';
import { removeSandbox, saveSandbox } from './sandboxes.js';

export type Mode = 'netns' | 'ipam-only';

export interface RuntimeOptions {
  mode: Mode;
  node: string;
  nodeIP: string;
  stateDir: string;
  cniPath: string[];
  cniTimeoutMs: number;
  network: NetworkConfigList;
  bootId: string;
  /** Fault injection on DEL (--fail-del-percent); absent = none. */
  delFaults?: DelFaults;
}

/**
 * Whether DEL exec number `k` (0-based, per node) is an injected failure: spread evenly, deterministic
 * (20 % = k 4, 9, 14, ...), so a run is repeatable. Of the injected failures, `lose` drops every one,
 * `mixed` every other one (the 1st, 3rd, ...), `retry` none.
 */
export function injectedDelFault(f: DelFaults | undefined, k: number): 'none' | 'retry' | 'lose' {
  if (!f || f.percent <= 0) return 'none';
  if (Math.floor(((k + 1) * f.percent) / 100) === Math.floor((k * f.percent) / 100)) return 'none';
  if (f.mode === 'retry') return 'retry';
  if (f.mode === 'lose') return 'lose';
  const nth = Math.floor(((k + 1) * f.percent) / 100); // 1-based index of this failure
  return nth % 2 === 1 ? 'lose' : 'retry';
}

export const newId = (): string => randomBytes(32).toString('hex');

export class SandboxError extends Error {
  constructor(
    message: string,
    readonly sandboxId: string,
    override readonly cause: unknown,
    /** Set when the cleanup DEL failed too: the caller must release it later. */
    readonly leftover?: SandboxRecord,
  ) {
    super(message);
    this.name = 'SandboxError';
  }
}

export class Runtime {
  private delExecs = 0;

  constructor(
    private readonly o: RuntimeOptions,
    private readonly metrics: Metrics,
  ) {}

  private rtConf(rec: SandboxRecord, netns: string): CniRuntimeConf {
    return {
      containerId: rec.sandboxId,
      netns,
      ifName: rec.ifName,
      args: rec.cniArgs,
      cniPath: this.o.cniPath,
      execPrefix: this.o.mode === 'netns' ? ['ip', 'netns', 'exec', nodeNetns(this.o.node)] : [],
      timeoutMs: this.o.cniTimeoutMs,
    };
  }

  /** RunPodSandbox: returns the persisted record with the CNI result and pod IPs. */
  async runSandbox(pod: V1Pod): Promise<SandboxRecord> {
    const sandboxId = newId();
    const md = pod.metadata!;
    const containers: Record<string, string> = {};
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) containers[c.name] = newId();
    const hostNetwork = pod.spec?.hostNetwork === true;
    const mode: SandboxRecord['mode'] = hostNetwork ? 'host-network' : this.o.mode;
    const netns = mode === 'netns' ? podNetns(this.o.node, sandboxId) : '';
    const rec: SandboxRecord = {
      sandboxId,
      node: this.o.node,
      podUid: md.uid!,
      namespace: md.namespace!,
      name: md.name!,
      mode,
      netns,
      // ipam-only: a path that is never created; IPAM plugins do not enter the netns.
      netnsPath: mode === 'netns' ? netnsPath(netns) : mode === 'ipam-only' ? `/run/netns/spts-ipamonly-${sandboxId.slice(0, 12)}` : '',
      ifName: 'eth0',
      cniArgs: [
        ['IgnoreUnknown', '1'],
        ['K8S_POD_NAMESPACE', md.namespace!],
        ['K8S_POD_NAME', md.name!],
        ['K8S_POD_INFRA_CONTAINER_ID', sandboxId],
        ['K8S_POD_UID', md.uid!],
      ],
      ips: [],
      containers,
      createdAt: new Date().toISOString(),
      bootId: this.o.bootId,
    };
    if (mode === 'host-network') {
      rec.ips = [this.o.nodeIP];
      return rec;
    }
    saveSandbox(this.o.stateDir, rec);
    try {
      if (mode === 'netns') await createPodNetns(netns);
      const t0 = performance.now();
      let result: unknown;
      try {
        result = mode === 'netns' ? await addNetworkList(this.o.network, this.rtConf(rec, rec.netnsPath)) : await addIpamOnly(this.o.network, this.rtConf(rec, rec.netnsPath));
      } finally {
        this.metrics.observeAdd(performance.now() - t0);
      }
      const ips = resultIPs(result);
      if (ips.length === 0) throw new Error(`CNI result has no IPs: ${JSON.stringify(result).slice(0, 300)}`);
      rec.result = result;
      rec.ips = ips;
      saveSandbox(this.o.stateDir, rec);
      return rec;
    } catch (err) {
      this.metrics.addFailures++;
      // As containerd: a failed setup is torn down (DEL) before the error is returned.
      let leftover: SandboxRecord | undefined;
      try {
        await this.stopSandbox(rec);
      } catch {
        leftover = rec; // a later sync of this pod retries the DEL
      }
      const msg = err instanceof Error ? err.message : String(err);
      throw new SandboxError(`failed to setup network for sandbox "${sandboxId}": ${msg}`, sandboxId, err, leftover);
    }
  }

  /**
   * StopPodSandbox: CNI DEL with the sandbox's own container id, netns and args, then the netns is
   * removed and the record dropped. For a sandbox whose netns died with a power-off, CNI_NETNS is
   * empty (containerd does the same; the spec lets DEL run without a netns).
   */
  async stopSandbox(rec: SandboxRecord): Promise<void> {
    if (rec.mode === 'host-network') return;
    const netns = rec.mode === 'netns' ? (netnsExists(rec.netns) ? rec.netnsPath : '') : rec.netnsPath;
    const fault = injectedDelFault(this.o.delFaults, this.delExecs++);
    if (fault !== 'none') {
      // Fault injection: the DEL "failed" without the plugin running (a CNI crash or a network error
      // a real plugin cannot be made to produce on demand). retry: the error goes back to the kubelet
      // loop, which retries StopPodSandbox; lose: the runtime drops the sandbox as if the DEL had
      // happened, so the IPAM never hears of it (its GC must find the leak).
      this.metrics.delFailures++;
      this.metrics.delInjected++;
      if (fault === 'retry') throw new Error(`injected CNI DEL failure (sandbox ${rec.sandboxId.slice(0, 12)}; --fail-del-percent)`);
      this.metrics.delLost++;
      if (rec.mode === 'netns') await delNetns(rec.netns);
      removeSandbox(this.o.stateDir, rec);
      return;
    }
    const t0 = performance.now();
    try {
      if (rec.mode === 'netns') await delNetworkList(this.o.network, this.rtConf(rec, netns), rec.result);
      else await delIpamOnly(this.o.network, this.rtConf(rec, netns));
      this.metrics.observeDel(performance.now() - t0);
    } catch (e) {
      this.metrics.delFailures++;
      throw e;
    }
    if (rec.mode === 'netns') await delNetns(rec.netns);
    removeSandbox(this.o.stateDir, rec);
  }
}
