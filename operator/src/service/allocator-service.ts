// The allocator's business logic behind the IPAM RPCs (proto/spiderpool_ts/ipam/v1/ipam.proto),
// transport-free: the gRPC server and the in-process benchmark call the same methods. Each answer
// that gives or frees an address is sent only after the IPAMBlock write carrying it succeeded.
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import type { BlockEntry } from '../api/internal/ipamblock.js';
import type { IPVersion, Route as PoolRoute, SpiderIPPool } from '../api/v2beta1/types.js';
import { ANNO_POD_ROUTES, parseRoutesAnnotation } from '../core/annotations/index.js';
import { ANNO_POD_IPPOOL, ANNO_POD_IPPOOLS, ANNO_SUBNET, ANNO_SUBNETS } from '../api/v2beta1/constants.js';
import { canonicalIP } from '../core/ip/index.js';
import { type Candidate, type SelectionConfig, selectPoolCandidates } from '../core/selection/index.js';
import { type AllocationRecord, type Application, decideReuse } from '../core/workload/index.js';
import type { Logger } from '../framework/logger.js';
import { ErrorReason, GrpcCode } from '../rpc/errors.js';
import type {
  AllocateRequest,
  AllocateResponse,
  Attachment,
  CheckRequest,
  CheckResponse,
  GCRequest,
  GCResponse,
  IPConfig,
  ReleaseRequest,
  ReleaseResponse,
  Route,
  StatusResponse,
} from '../rpc/gen/spiderpool_ts/ipam/v1/ipam.js';
import type { BlockCommitter, Mutation, Outcome } from './block-committer.js';
import { slotOf } from './block-layout.js';
import { IpamError, invalidArgument, notReady } from './errors.js';
import { authorizeNodeForPod } from '../security/peer-identity.js';
import { KeyedMutex } from './keyed-mutex.js';
import { checkField, requireField } from './request-fields.js';
import type { NamespaceQuota } from './namespace-quota.js';
import { type GcMetrics, type RpcMetrics, noopGcMetrics, noopRpcMetrics } from '../metrics/hooks.js';
import type { Held, PoolState } from './pool-state.js';

export interface ClusterView {
  /** The pod from the cache, else from the API (a brand-new pod may not be cached yet). */
  pod(namespace: string, name: string): Promise<V1Pod | undefined>;
  namespace(name: string): V1Namespace | undefined;
  /** Labels of the node (pool nodeAffinity); undefined when the node is not known. */
  nodeLabels(name: string): Record<string, string> | undefined;
  pools(): readonly SpiderIPPool[];
  /** A StatefulSet's desired replicas, from the API; undefined when it is gone or being deleted. */
  statefulSetReplicas(namespace: string, name: string): Promise<number | undefined>;
  /** spec.ordinals.start and replicas of a StatefulSet (ordinals start..start+replicas-1 live); preferred over statefulSetReplicas. */
  statefulSetOrdinals?(namespace: string, name: string): Promise<{ start: number; replicas: number } | undefined>;
  /** The pod's top controller with its uid (auto pools belong to it); undefined for a bare pod. */
  application?(pod: V1Pod): Promise<Application | undefined>;
  /** Resolves at the next pool change or after `ms`: an ADD that raced ahead of its auto pool waits on it. */
  poolsChanged?(ms: number): Promise<void>;
}

export interface AllocatorServiceOptions {
  committer: BlockCommitter;
  cluster: ClusterView;
  selection: SelectionConfig;
  /** Spiderpool's enableStatefulSet; default true. */
  statefulSetKeepsIPs?: boolean;
  /** Keep a StatefulSet pod's addresses when its ordinal is scaled away (for the scale-up); default false. */
  statefulSetKeepScaledDown?: boolean;
  /** CNI GC spares allocations younger than this (an ADD may be in flight); default 60 s. */
  gcGraceMs?: number;
  /** Allocate/Release counts, failures by reason, latency; addresses freed by CNI GC and pod deletion. */
  metrics?: { allocation: RpcMetrics; release: RpcMetrics; gc: GcMetrics };
  /** Per-namespace IP quota; omitted: no quota is enforced. */
  quota?: NamespaceQuota;
  /**
   * Called when an Allocate fails because no pool has a free address or none can serve the pod
   * (controllers/allocation-events.ts posts the Event). Never on success: it costs nothing there.
   */
  onAllocationFailure?: (f: { pod: { namespace: string; name: string; uid: string }; reason: string; message: string; pools: { name: string; used: number | null; total: number | null }[] }) => void;
  log: Logger;
  now?: () => Date;
}

export class AllocatorService {
  private state: PoolState | undefined;
  private notReadyWhy = 'state not rebuilt yet';
  private readonly attachments = new KeyedMutex();
  private readonly now: () => Date;
  private atSecond = NaN;
  private atText = '';

  constructor(private readonly opts: AllocatorServiceOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * RFC 3339 time of a new record, whole seconds (what the block stores): formatted once per second,
   * not once per allocation (a Date, toISOString and a regex replace per call on the hot path).
   */
  private recordedAt(): string {
    const ms = this.now().getTime();
    const second = Math.floor(ms / 1000);
    if (second !== this.atSecond) {
      this.atSecond = second;
      this.atText = new Date(second * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    }
    return this.atText;
  }

  /** Serve from this state (rebuilt from the blocks); undefined stops serving with `why`. */
  setState(state: PoolState | undefined, why = 'state not rebuilt yet'): void {
    this.state = state;
    this.notReadyWhy = why;
  }

  get poolState(): PoolState | undefined {
    return this.state;
  }

  status(): StatusResponse {
    return this.state ? { ready: true, message: '' } : { ready: false, message: this.notReadyWhy };
  }

  allocate(req: AllocateRequest): Promise<AllocateResponse> {
    const answer = (this.opts.metrics?.allocation ?? noopRpcMetrics).measure(() => this.allocateUnmeasured(req));
    return this.opts.onAllocationFailure === undefined ? answer : answer.catch((e: unknown) => this.reportFailure(req, e));
  }

  /** Tells onAllocationFailure about a failure the user can fix (exhausted, no candidate pool); rethrows. */
  private reportFailure(req: AllocateRequest, e: unknown): never {
    if (e instanceof IpamError && req.pod && (e.reason === ErrorReason.PoolExhausted || e.reason === ErrorReason.NoCandidatePool)) {
      const names = e.reason === ErrorReason.PoolExhausted ? (e.metadata.pool ?? '').split(',').filter((n) => n !== '') : [];
      const pools = names.map((name) => {
        const c = this.state?.counts(name);
        return { name, used: c ? Number(c.total - c.free) : null, total: c ? Number(c.total) : null };
      });
      try {
        this.opts.onAllocationFailure?.({ pod: req.pod, reason: e.reason, message: e.message, pools });
      } catch (err) {
        this.opts.log.warn('allocation failure hook failed', { namespace: req.pod.namespace, name: req.pod.name, error: err });
      }
    }
    throw e;
  }

  private async allocateUnmeasured(req: AllocateRequest): Promise<AllocateResponse> {
    requireAttachment(req);
    const ref = req.pod ?? { namespace: '', name: '', uid: '' };
    requireField(ref.namespace, 'pod.namespace', 'namespace');
    requireField(ref.name, 'pod.name', 'podName');
    requireField(ref.uid, 'pod.uid', 'uid');
    const state = this.ready();
    // Fields on every line about this call; a plain object, not log.child(): this is the hot path.
    const about = { namespace: ref.namespace, name: ref.name, ifname: req.ifname, requestId: req.requestId };
    const log = this.opts.log;
    return this.attachments.run(`${ref.uid}/${req.ifname}`, async () => {
      const pod = await this.opts.cluster.pod(ref.namespace, ref.name);
      if (pod === undefined) throw new IpamError(GrpcCode.NOT_FOUND, ErrorReason.PodNotFound, `pod ${ref.namespace}/${ref.name} is not in the API`);
      const uid = pod.metadata?.uid ?? '';
      if (uid !== ref.uid) {
        throw new IpamError(GrpcCode.FAILED_PRECONDITION, ErrorReason.PodUidMismatch, `pod ${ref.namespace}/${ref.name} has uid ${uid}, not ${ref.uid}`, { uid });
      }
      checkNode(pod, req.nodeName);
      refuseEndedPod(pod);

      const ns = this.opts.cluster.namespace(ref.namespace);
      const annotations = pod.metadata?.annotations ?? {};
      // Auto pools and pools named by annotation are matched against the pod's application.
      const podController = usesApplication(annotations) ? await this.opts.cluster.application?.(pod) : undefined;
      const select = () => selectPoolCandidates({
        pod: { namespace: ref.namespace, name: ref.name, labels: pod.metadata?.labels ?? {}, annotations, nodeName: req.nodeName },
        nodeLabels: this.opts.cluster.nodeLabels(req.nodeName) ?? {},
        namespaceLabels: ns?.metadata?.labels ?? {},
        namespaceAnnotations: ns?.metadata?.annotations ?? {},
        cniDefaults: { ipv4: req.defaultIpv4Ippool, ipv6: req.defaultIpv6Ippool },
        ...(req.cleanGateway !== undefined ? { cniCleanGateway: req.cleanGateway } : {}),
        nic: req.ifname,
        pools: this.opts.cluster.pools(),
        config: this.opts.selection,
        ...(podController ? { podController } : {}),
      });
      let selected = select();
      // The pod raced ahead of its application's auto pool (created by the auto-pool controller as the
      // workload appears): wait for pool changes a bounded time, then let the runtime retry.
      for (const deadline = Date.now() + AUTO_POOL_WAIT_MS; !selected.ok && selected.error.kind === 'auto-pool-unavailable'; selected = select()) {
        const left = deadline - Date.now();
        if (left <= 0 || this.opts.cluster.poolsChanged === undefined) throw notReady(selected.error.message);
        await this.opts.cluster.poolsChanged(left);
      }
      if (!selected.ok) throw new IpamError(GrpcCode.FAILED_PRECONDITION, ErrorReason.NoCandidatePool, selected.error.message);
      const sel = selected.value;
      const requested: IPVersion[] = [...(sel.requested.v4 ? [4 as const] : []), ...(sel.requested.v6 ? [6 as const] : [])];

      const owner = controllerOf(pod);
      const entryBase = {
        uid,
        pod: `${ref.namespace}/${ref.name}`,
        nic: req.ifname,
        cid: req.containerId,
        node: req.nodeName,
        ...(req.networkName ? { net: req.networkName } : {}),
        ...(owner ? { ok: `${owner.kind}/${owner.name}` } : {}),
      };

      const decision = decideReuse(state.forPod(ref.namespace, ref.name).map(toRecord), {
        namespace: ref.namespace,
        podName: ref.name,
        podUID: uid,
        nic: req.ifname,
        ...(owner ? { ownerKind: owner.kind, ownerName: owner.name } : {}),
        statefulSetKeepsIPs: this.opts.statefulSetKeepsIPs ?? true,
        candidatePools: { 4: sel.v4.map((c) => c.name), 6: sel.v6.map((c) => c.name) },
      });
      for (const s of decision.stale) {
        const h = state.get(s.record.pool, s.record.ip);
        if (h === undefined) continue;
        log.info('releasing stale allocation', { ...about, ip: h.ip, pool: h.pool, heldBy: h.entry.uid, why: s.reason });
        await this.releaseHeld(state, h);
      }

      const got: Held[] = [];
      try {
        for (const r of decision.reuse) {
          if (!requested.includes(r.family)) continue;
          const h = state.get(r.pool, r.ip);
          if (h === undefined) continue;
          got.push(await this.refresh(state, h, { uid, cid: req.containerId, node: req.nodeName }));
        }
        for (const family of requested) {
          if (got.some((h) => h.family === family)) continue;
          // Per-namespace IP quota (namespace-quota.ts): may narrow the candidates or refuse.
          const quota = this.opts.quota?.reserve(ref, family === 4 ? sel.v4 : sel.v6, state);
          try {
            got.push(await this.allocateIn(state, quota?.candidates ?? (family === 4 ? sel.v4 : sel.v6), entryBase));
          } finally {
            quota?.release();
          }
        }
      } catch (e) {
        // All families or none: give back what this call took (reused records stay, they were the pod's).
        const fresh = got.filter((h) => !decision.reuse.some((r) => r.pool === h.pool && r.ip === h.ip));
        for (const h of fresh) await this.releaseHeld(state, h).catch((err: unknown) => log.error('rollback failed', { ...about, ip: h.ip, pool: h.pool, error: err }));
        throw e;
      }
      // debug, not info: one line per allocation cost more CPU than the allocation itself (winston's
      // stream pipeline, ~10–40 µs; bench:service). The node's shim logs every ADD with pod and IP at
      // info, the SpiderEndpoint records the holder, and LOG_LEVEL=debug brings these lines back.
      log.debug('allocated', { ...about, ips: got.map((h) => h.ip), pools: got.map((h) => h.pool), matchedBy: decision.matchedBy });
      return this.response(got, sel.cleanGateway, annotations);
    });
  }

  release(req: ReleaseRequest): Promise<ReleaseResponse> {
    return (this.opts.metrics?.release ?? noopRpcMetrics).measure(() => this.releaseUnmeasured(req));
  }

  private async releaseUnmeasured(req: ReleaseRequest): Promise<ReleaseResponse> {
    requireAttachment(req);
    checkPodRef(req.pod);
    const state = this.ready();
    const ref = req.pod ?? { namespace: '', name: '', uid: '' };
    const key = ref.uid ? `${ref.uid}/${req.ifname}` : `node:${req.nodeName}/${req.containerId}/${req.ifname}`;
    return this.attachments.run(key, async () => {
      let pod: V1Pod | undefined;
      if (ref.namespace && ref.name) {
        pod = await this.opts.cluster.pod(ref.namespace, ref.name);
        if (pod !== undefined && (!ref.uid || pod.metadata?.uid === ref.uid)) checkNode(pod, req.nodeName);
      }
      const wanted = new Set(req.ips.map((ip, i) => canonicalAddress(ip, i)));
      const held = this.attachmentHeld(state, req.containerId, req.ifname, req.nodeName, ref).filter((h) => wanted.size === 0 || wanted.has(h.ip));
      if (held.length === 0) {
        throw new IpamError(GrpcCode.NOT_FOUND, ErrorReason.AllocationNotFound, `nothing held for container ${req.containerId} interface ${req.ifname}`);
      }
      if (pod !== undefined && held.every((h) => sandboxOfLivePod(pod, h.entry.uid, req.nodeName))) {
        // The runtime tears down a dead sandbox of a pod that lives on (node reboot, sandbox
        // recreated): its next ADD gets these addresses back by (pod uid, ifname). The addresses are
        // freed when the pod goes (pod-release controller) or finishes, never leaked by keeping them.
        this.opts.log.info('kept on DEL: the pod lives on and will get them back', { namespace: ref.namespace, name: ref.name, ifname: req.ifname, ips: held.map((h) => h.ip), containerId: req.containerId, requestId: req.requestId });
        return { released: [] };
      }
      const released: string[] = [];
      for (const h of held) if (await this.releaseHeld(state, h)) released.push(h.ip);
      this.opts.log.debug('released', { namespace: ref.namespace, name: ref.name, ifname: req.ifname, ips: released, requestId: req.requestId });
      return { released };
    });
  }

  async check(req: CheckRequest): Promise<CheckResponse> {
    requireAttachment(req);
    checkPodRef(req.pod);
    const state = this.ready();
    const ref = req.pod ?? { namespace: '', name: '', uid: '' };
    const held = this.attachmentHeld(state, req.containerId, req.ifname, req.nodeName, ref);
    if (held.length === 0) {
      throw new IpamError(GrpcCode.NOT_FOUND, ErrorReason.AllocationNotFound, `nothing held for container ${req.containerId} interface ${req.ifname}`);
    }
    return { ips: held.map((h) => this.ipConfig(state, h)).sort((a, b) => a.version - b.version) };
  }

  async gc(req: GCRequest): Promise<GCResponse> {
    requireField(req.nodeName, 'node_name', 'node');
    const state = this.ready();
    const valid = new Set(req.validAttachments.map((a) => `${a.containerId}/${a.ifname}`));
    const cutoff = this.now().getTime() - (this.opts.gcGraceMs ?? 60_000);
    const released = new Map<string, Attachment>();
    let freed = 0;
    for (const h of state.forNode(req.nodeName)) {
      if (req.networkName && h.entry.net && h.entry.net !== req.networkName) continue;
      const key = `${h.entry.cid ?? ''}/${h.entry.nic}`;
      if (valid.has(key)) continue;
      if (h.entry.at === undefined || Date.parse(h.entry.at) > cutoff) continue;
      if (await this.releaseHeld(state, h)) {
        released.set(key, { containerId: h.entry.cid ?? '', ifname: h.entry.nic });
        freed++;
      }
    }
    (this.opts.metrics?.gc ?? noopGcMetrics).released('cni-gc', freed);
    if (released.size > 0) this.opts.log.info('gc released', { node: req.nodeName, attachments: [...released.keys()], requestId: req.requestId });
    return { released: [...released.values()] };
  }

  /**
   * Releases what a pod that no longer exists still holds (its CNI DEL was missed: node gone, runtime
   * crash). Nothing while the pod exists — a same-named successor is the ADD path's business
   * (decideReuse). StatefulSet records are kept when StatefulSets keep their IPs and the pod's
   * ordinal is still below the StatefulSet's replicas: the successor pod of that name takes them
   * over. A scale-down or a deleted StatefulSet frees them (Spiderpool does the same). Returns the
   * released addresses.
   */
  async releaseDeletedPod(namespace: string, name: string): Promise<string[]> {
    const state = this.ready();
    const held = state.forPod(namespace, name);
    if (held.length === 0 || (await this.opts.cluster.pod(namespace, name)) !== undefined) return [];
    const keepSts = this.opts.statefulSetKeepsIPs ?? true;
    const released: string[] = [];
    const keep = keepSts && (await this.successorExpected(namespace, name, held));
    for (const h of held) {
      if (keep && h.entry.ok?.startsWith('StatefulSet/')) continue;
      await this.attachments.run(`${h.entry.uid}/${h.entry.nic}`, async () => {
        if (await this.releaseHeld(state, h)) released.push(h.ip);
      });
    }
    (this.opts.metrics?.gc ?? noopGcMetrics).released('pod-deleted', released.length);
    if (released.length > 0) this.opts.log.info('released addresses of a deleted pod', { namespace, name, ips: released });
    return released;
  }

  /**
   * Releases exactly this record, for the garbage collector once it has re-checked that the owner is
   * gone. The write names the record's (uid, seq), so a record that changed hands meanwhile (taken
   * over by a StatefulSet successor, or freed and given to a new pod) is left alone: false.
   */
  async releaseRecord(h: Held): Promise<boolean> {
    const state = this.ready();
    return this.attachments.run(`${h.entry.uid}/${h.entry.nic}`, () => this.releaseHeld(state, h));
  }

  /** Whether a StatefulSet will recreate pod `name` (its ordinal is below the current replicas). */
  private async successorExpected(namespace: string, name: string, held: readonly Held[]): Promise<boolean> {
    const owner = held.find((h) => h.entry.ok?.startsWith('StatefulSet/'))?.entry.ok?.slice('StatefulSet/'.length);
    const ordinal = Number(/-(\d+)$/.exec(name)?.[1] ?? NaN);
    if (owner === undefined || !name.startsWith(`${owner}-`) || !Number.isInteger(ordinal)) return false;
    if (this.opts.cluster.statefulSetOrdinals !== undefined) {
      const span = await this.opts.cluster.statefulSetOrdinals(namespace, owner);
      return span !== undefined && ordinal >= span.start && (this.opts.statefulSetKeepScaledDown === true || ordinal < span.start + span.replicas);
    }
    const replicas = await this.opts.cluster.statefulSetReplicas(namespace, owner);
    return replicas !== undefined && ordinal < replicas;
  }

  private ready(): PoolState {
    if (this.state === undefined) throw notReady(this.notReadyWhy);
    return this.state;
  }

  /** What this attachment holds: by pod uid when given, else by container id on the calling node. */
  private attachmentHeld(state: PoolState, cid: string, nic: string, node: string, ref: { namespace: string; name: string; uid: string }): Held[] {
    const candidates = ref.uid ? state.forAttachment(ref.uid, nic) : state.forNode(node).filter((h) => h.entry.nic === nic);
    return candidates.filter(
      (h) => h.entry.cid === cid && (!ref.namespace || !ref.name || h.entry.pod === `${ref.namespace}/${ref.name}`) && (!h.entry.node || h.entry.node === node),
    );
  }

  /** Takes the first free address of the first candidate pool that has one, recording it durably. */
  private async allocateIn(state: PoolState, candidates: readonly Candidate[], base: Omit<BlockEntry, 'seq' | 'at'>): Promise<Held> {
    const unloaded: string[] = [];
    for (const c of candidates) {
      const pool = state.pool(c.name);
      if (pool === undefined) {
        unloaded.push(c.name);
        continue;
      }
      for (;;) {
        const ip = pool.allocator.allocate();
        if (ip === undefined) break;
        const slot = slotOf(c.name, pool.family, ip);
        let outcome: Outcome;
        try {
          outcome = await this.opts.committer.submit(slot.block, pool.pool.metadata.uid, { op: 'allocate', offset: slot.offset, entry: { ...base, at: this.recordedAt() } });
        } catch (e) {
          // The write's fate is unknown; the block stays the authority (a later write re-reads it), so
          // freeing the address in memory cannot hand it out twice.
          pool.allocator.release(ip);
          throw e;
        }
        if (outcome.ok) {
          const held: Held = { pool: c.name, family: pool.family, ip, entry: outcome.entry };
          state.add(held);
          return held;
        }
        if (outcome.holder) state.add({ pool: c.name, family: pool.family, ip, entry: outcome.holder });
        // Another writer holds it (a second operator): keep it marked held and try the next address.
        this.opts.log.warn('address taken by another writer', { ip, pool: c.name, holder: outcome.holder?.pod });
      }
    }
    // A pool created moments ago is in the cache but not yet in the allocator: retryable, not exhausted.
    if (unloaded.length === candidates.length) throw notReady(`pool(s) ${unloaded.join(',')} not loaded into the allocator yet`);
    const names = candidates.map((c) => c.name).join(',');
    throw new IpamError(GrpcCode.RESOURCE_EXHAUSTED, ErrorReason.PoolExhausted, `no free address in pool(s) ${names}`, { pool: names });
  }

  /** Rewrites a reused record for this pod/sandbox (no write when nothing changed). */
  private async refresh(state: PoolState, h: Held, set: { uid: string; cid: string; node: string }): Promise<Held> {
    const pool = state.pool(h.pool);
    const slot = slotOf(h.pool, h.family, h.ip);
    const outcome = await this.commit(slot, pool?.pool.metadata.uid, { op: 'update', offset: slot.offset, uid: h.entry.uid, seq: h.entry.seq, set });
    if (!outcome.ok) {
      state.remove(h);
      throw new IpamError(GrpcCode.UNAVAILABLE, ErrorReason.NotReady, `allocation ${h.ip} of pool ${h.pool} changed under us; retry`);
    }
    const next: Held = { ...h, entry: outcome.entry };
    state.add(next);
    return next;
  }

  /** Removes the record (uid + seq must still match), then frees the address. False when it was gone. */
  private async releaseHeld(state: PoolState, h: Held): Promise<boolean> {
    const pool = state.pool(h.pool);
    const slot = slotOf(h.pool, h.family, h.ip);
    const outcome = await this.commit(slot, pool?.pool.metadata.uid, { op: 'release', offset: slot.offset, uid: h.entry.uid, seq: h.entry.seq });
    state.remove(h);
    if (!outcome.ok && outcome.holder) state.add({ ...h, entry: outcome.holder });
    return outcome.ok;
  }

  private commit(slot: ReturnType<typeof slotOf>, poolUID: string | undefined, m: Mutation): Promise<Outcome> {
    return this.opts.committer.submit(slot.block, poolUID, m);
  }

  private response(got: Held[], cleanGateway: boolean, annotations: Record<string, string>): AllocateResponse {
    const state = this.ready();
    got.sort((a, b) => a.family - b.family);
    const ips = got.map((h) => this.ipConfig(state, h));
    const routes: Route[] = [];
    for (const h of got) {
      const spec = state.pool(h.pool)?.pool.spec;
      for (const r of spec?.routes ?? []) routes.push({ dst: r.dst, gw: r.gw });
      if (!cleanGateway && spec?.gateway) routes.push({ dst: h.family === 4 ? '0.0.0.0/0' : '::/0', gw: spec.gateway });
    }
    const raw = annotations[ANNO_POD_ROUTES];
    if (raw !== undefined) {
      const parsed = parseRoutesAnnotation(raw);
      if (!parsed.ok) throw invalidArgument(`pod annotation ${ANNO_POD_ROUTES}`, parsed.error.message);
      routes.push(...parsed.value.map((r: PoolRoute) => ({ dst: r.dst, gw: r.gw })));
    }
    return { ips, routes, dns: undefined };
  }

  private ipConfig(state: PoolState, h: Held): IPConfig {
    const spec = state.pool(h.pool)?.pool.spec;
    const prefix = spec?.subnet.split('/')[1] ?? (h.family === 4 ? '32' : '128');
    return { version: h.family, address: `${h.ip}/${prefix}`, gateway: spec?.gateway ?? '', pool: h.pool, vlan: spec?.vlan ?? 0 };
  }
}

/** prevResult addresses come as the runtime cached them ("fd00::0a/64"); records use one spelling. */
function canonicalAddress(text: string, i: number): string {
  try {
    return canonicalIP(text.split('/')[0] ?? '');
  } catch (e) {
    throw invalidArgument(`ips[${i}]`, `is not an IP address or CIDR: ${(e as Error).message}`);
  }
}

function requireAttachment(req: { containerId: string; ifname: string; nodeName: string }): void {
  requireField(req.containerId, 'container_id', 'containerId');
  requireField(req.ifname, 'ifname', 'ifname');
  requireField(req.nodeName, 'node_name', 'node');
}

/** Release and Check may come without the pod (a DEL without CNI_ARGS); what is there must be well-formed. */
function checkPodRef(ref: { namespace: string; name: string; uid: string } | undefined): void {
  checkField(ref?.namespace, 'pod.namespace', 'namespace');
  checkField(ref?.name, 'pod.name', 'podName');
  checkField(ref?.uid, 'pod.uid', 'uid');
}

/** The pod must be scheduled on the calling node (ADR 0006); one rule, kept in security/. */
function checkNode(pod: V1Pod, node: string): void {
  const allowed = authorizeNodeForPod(node, pod);
  if (!allowed.ok) throw allowed.error;
}

/**
 * A pod being deleted or already finished gets no address (Spiderpool's CheckPodStatus refuses the
 * same): the kubelet never starts a sandbox for it, so such an ADD is a stale or racing one, and an
 * address given now would only wait for its DEL or the GC — on a 1:1 pool, blocking the pod that
 * replaces it. Found by the chaos suite (tests/chaos, add-deleted-pod).
 */
function refuseEndedPod(pod: V1Pod): void {
  const id = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  if (pod.metadata?.deletionTimestamp) {
    throw new IpamError(GrpcCode.FAILED_PRECONDITION, ErrorReason.PodTerminating, `pod ${id} is being deleted; no address is given to a terminating pod`);
  }
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    throw new IpamError(GrpcCode.FAILED_PRECONDITION, ErrorReason.PodTerminated, `pod ${id} has finished (phase ${phase}); no address is given to it`);
  }
}

/** How long an ADD waits for its auto pool to appear before answering "try again". */
const AUTO_POOL_WAIT_MS = 3000;

function usesApplication(annotations: Record<string, string>): boolean {
  return ANNO_SUBNET in annotations || ANNO_SUBNETS in annotations || ANNO_POD_IPPOOL in annotations || ANNO_POD_IPPOOLS in annotations;
}

function controllerOf(pod: V1Pod): { kind: string; name: string } | undefined {
  const ref = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  return ref && { kind: ref.kind, name: ref.name };
}

function toRecord(h: Held): AllocationRecord {
  const [namespace = '', podName = ''] = h.entry.pod.split('/');
  const [ownerKind, ownerName] = h.entry.ok?.split('/') ?? [];
  return {
    ip: h.ip,
    pool: h.pool,
    family: h.family,
    nic: h.entry.nic,
    namespace,
    podName,
    podUID: h.entry.uid,
    ...(ownerKind ? { ownerKind } : {}),
    ...(ownerName ? { ownerName } : {}),
    ...(h.entry.node ? { node: h.entry.node } : {}),
    ...(h.entry.cid ? { containerID: h.entry.cid } : {}),
  };
}

/**
 * Whether a DEL is for a sandbox of a pod that is still meant to run on this node: same UID, bound to
 * the calling node, not being deleted, not finished. Such a DEL comes from a sandbox being recreated.
 */
function sandboxOfLivePod(pod: V1Pod, recordedUID: string, node: string): boolean {
  const phase = pod.status?.phase;
  return (
    pod.metadata?.uid === recordedUID &&
    pod.spec?.nodeName === node &&
    pod.metadata?.deletionTimestamp === undefined &&
    phase !== 'Succeeded' &&
    phase !== 'Failed'
  );
}
