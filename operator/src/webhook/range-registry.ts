// Race-free overlap admission (ADR 0007): every footprint the webhook admits is first recorded in one
// ConfigMap, written with a resourceVersion precondition. Two admissions that overlap can both read
// the registry before either writes, but only one write succeeds; the other gets a conflict, re-reads,
// sees the winner and is refused. That holds across operator replicas (no leader needed) and for
// objects the apiserver has accepted but no informer has shown yet. In one process the admissions
// are also serialised, so conflicts only come from other replicas.
//
// The registry is a superset of what exists: an entry is written before the apiserver stores the
// object, so a create that fails afterwards (another webhook refuses it, etcd is down) leaves an
// entry with no object. Such entries are pruned on a later write once their object is absent from
// the cache and the entry is older than the grace period (by then any accepted object is cached).
// Objects created while the webhook was not installed are not in the registry; the caller passes
// them in from its cache, so they still count (without the race guarantee, which needs the webhook).
import { createHash } from 'node:crypto';
import type { CoreV1Api } from '@kubernetes/client-node';
import { type FieldError, type Footprint, type HolderKind, footprintFromRanges, footprintRanges } from './footprint.js';
import { KeyedMutex } from '../service/keyed-mutex.js';

export const RANGE_REGISTRY_CONFIGMAP = 'spiderpool-ts-ip-ranges';

export interface RegistrySnapshot {
  data: Record<string, string>;
  resourceVersion: string;
}

export interface RegistryStore {
  read(): Promise<RegistrySnapshot | undefined>;
  /** Creates (no resourceVersion) or replaces (with it as precondition). False on a lost race. */
  write(data: Record<string, string>, resourceVersion?: string): Promise<boolean>;
}

interface Entry {
  /** spec.subnet */
  s: string;
  /** spec.ips minus excludeIPs, as ranges */
  r: string[];
  /** when admitted, RFC 3339 */
  at: string;
  /** the full name, when the key had to be shortened */
  n?: string;
}

const PREFIX: Record<HolderKind, string> = { SpiderIPPool: 'p.', SpiderSubnet: 's.' };

/** ConfigMap keys are at most 253 characters; object names may be 253 themselves. */
const MAX_KEY = 253;

/** `p.<name>` / `s.<name>`; a name too long for that is cut and made unique with a hash (the entry keeps the full name). */
export function registryKey(kind: HolderKind, name: string): string {
  const key = PREFIX[kind] + name;
  if (key.length <= MAX_KEY) return key;
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return `${PREFIX[kind]}${name.slice(0, MAX_KEY - PREFIX[kind].length - digest.length - 1)}.${digest}`;
}

function parseKey(key: string, entry: Entry): { kind: HolderKind; name: string } | undefined {
  if (key.startsWith('p.')) return { kind: 'SpiderIPPool', name: entry.n ?? key.slice(2) };
  if (key.startsWith('s.')) return { kind: 'SpiderSubnet', name: entry.n ?? key.slice(2) };
  return undefined;
}

/** What the caches currently show (objects created without the webhook, and pruning). */
export interface LiveView {
  footprints(): Footprint[];
  exists(kind: HolderKind, name: string): boolean;
}

export interface AdmitRequest {
  footprint: Footprint;
  /** The rules for this kind, given every other footprint (registry ∪ cache). */
  check: (others: readonly Footprint[]) => FieldError[];
  /** Checked, never recorded (kubectl --dry-run=server). */
  dryRun: boolean;
}

export interface RangeRegistryOptions {
  store: RegistryStore;
  live: LiveView;
  /** Entries without an object are kept this long (an accepted create not yet cached); default 60 s. */
  graceMs?: number;
  /** Writes lost to another replica before giving up; default 10. */
  maxAttempts?: number;
  now?: () => Date;
}

export class RangeRegistry {
  private readonly serial = new KeyedMutex();
  private readonly now: () => Date;

  constructor(private readonly opts: RangeRegistryOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  /** The reasons to refuse, or [] when the footprint is admitted and (unless dryRun) recorded. */
  admit(req: AdmitRequest): Promise<FieldError[]> {
    return this.serial.run('registry', async () => {
      const attempts = this.opts.maxAttempts ?? 10;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        const snap = await this.opts.store.read();
        const data = snap?.data ?? {};
        const key = registryKey(req.footprint.kind, req.footprint.name);
        const others = this.others(data, key, req.footprint);
        const errors = req.check(others);
        if (errors.length > 0 || req.dryRun) return errors;
        const next = this.pruned(data, key);
        const entry: Entry = { s: req.footprint.subnet, r: footprintRanges(req.footprint), at: this.now().toISOString() };
        if (key !== PREFIX[req.footprint.kind] + req.footprint.name) entry.n = req.footprint.name;
        next[key] = JSON.stringify(entry);
        if (await this.opts.store.write(next, snap?.resourceVersion)) return [];
      }
      throw new Error(`range registry: lost the write race ${attempts} times in a row; retry`);
    });
  }

  /** Footprints of every other object: registry entries plus cached objects not in the registry. */
  private others(data: Record<string, string>, self: string, me: Footprint): Footprint[] {
    const out: Footprint[] = [];
    for (const [key, text] of Object.entries(data)) {
      if (key === self) continue;
      const entry = decodeEntry(text);
      const id = entry && parseKey(key, entry);
      if (id === undefined || entry === undefined) continue;
      const f = footprintFromRanges(id.kind, id.name, entry.s, entry.r);
      if ('addresses' in f) out.push(f);
    }
    for (const f of this.opts.live.footprints()) {
      // The cached version counts too: an update may be recorded but not yet applied, and both the
      // old and the new footprint are held until it is.
      if (f.kind === me.kind && f.name === me.name) continue;
      out.push(f);
    }
    return out;
  }

  private pruned(data: Record<string, string>, self: string): Record<string, string> {
    const cutoff = this.now().getTime() - (this.opts.graceMs ?? 60_000);
    const out: Record<string, string> = {};
    for (const [key, text] of Object.entries(data)) {
      if (key === self) continue;
      const entry = decodeEntry(text);
      const id = entry && parseKey(key, entry);
      if (id !== undefined && entry !== undefined && !this.opts.live.exists(id.kind, id.name) && Date.parse(entry.at) < cutoff) continue;
      out[key] = text;
    }
    return out;
  }
}

function decodeEntry(text: string): Entry | undefined {
  try {
    const e = JSON.parse(text) as Entry;
    return typeof e.s === 'string' && Array.isArray(e.r) && typeof e.at === 'string' && (e.n === undefined || typeof e.n === 'string') ? e : undefined;
  } catch {
    return undefined;
  }
}

/** The registry as a ConfigMap in the operator's namespace. */
export function configMapRegistryStore(core: CoreV1Api, namespace: string, name = RANGE_REGISTRY_CONFIGMAP): RegistryStore {
  const metadata = { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'spiderpool-ts', 'app.kubernetes.io/component': 'admission' } };
  return {
    async read() {
      try {
        const cm = await core.readNamespacedConfigMap({ namespace, name });
        return { data: cm.data ?? {}, resourceVersion: cm.metadata?.resourceVersion ?? '' };
      } catch (e) {
        if ((e as { code?: number }).code === 404) return undefined;
        throw e;
      }
    },
    async write(data, resourceVersion) {
      try {
        if (resourceVersion === undefined) await core.createNamespacedConfigMap({ namespace, body: { metadata, data } });
        else await core.replaceNamespacedConfigMap({ namespace, name, body: { metadata: { ...metadata, resourceVersion }, data } });
        return true;
      } catch (e) {
        // 409: another replica wrote first; 404: the ConfigMap was deleted meanwhile. Re-read either way.
        const code = (e as { code?: number }).code;
        if (code === 409 || code === 404) return false;
        throw e;
      }
    },
  };
}
