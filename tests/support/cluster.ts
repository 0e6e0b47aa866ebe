// Test helper for the local control plane (hack/controlplane/up.sh): a real etcd + kube-apiserver +
// kube-controller-manager + kube-scheduler on 127.0.0.1, built once into a cache outside the repo.
//
//   const { kubeconfigPath, server } = await ensureCluster();   // reuses a running cluster
//   const pods = JSON.parse(await kubectl(['get', 'pods', '-A', '-o', 'json']));
//
// Paths follow the same environment variables as the scripts: SPIDERPOOL_TS_CLUSTER_DIR,
// SPIDERPOOL_TS_CACHE, K8S_VERSION.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const k8sVersion = process.env.K8S_VERSION ?? 'v1.33.13';
export const clusterDir = process.env.SPIDERPOOL_TS_CLUSTER_DIR ?? '/tmp/spiderpool-ts-cluster';
export const kubeconfigPath = join(clusterDir, 'kubeconfig');
export const k8sBinDir = join(
  process.env.SPIDERPOOL_TS_CACHE ?? join(homedir(), '.cache', 'spiderpool-ts'),
  'k8s',
  k8sVersion,
  'bin',
);
export const kubectlPath = join(k8sBinDir, 'kubectl');

export interface ClusterInfo {
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
}

export class KubectlError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`kubectl ${args.join(' ')} failed (exit ${code}): ${stderr.trim() || stdout.trim()}`);
    this.name = 'KubectlError';
  }
}

export interface KubectlOptions {
  /** written to kubectl's stdin (e.g. with `apply -f -`) */
  input?: string;
  /** default 60s */
  timeoutMs?: number;
}

/** Runs the cached kubectl against the local cluster; resolves with stdout, rejects with KubectlError. */
export function kubectl(args: readonly string[], opts: KubectlOptions = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      kubectlPath,
      [`--kubeconfig=${kubeconfigPath}`, ...args],
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) {
          const code = typeof err.code === 'number' ? err.code : null;
          reject(new KubectlError(args, code, stdout, stderr || err.message));
        } else {
          resolvePromise(stdout);
        }
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

function serverFromKubeconfig(): string {
  const m = /^\s*server:\s*(\S+)\s*$/m.exec(readFileSync(kubeconfigPath, 'utf8'));
  if (!m?.[1]) throw new Error(`no server in ${kubeconfigPath}`);
  return m[1];
}

/** True when the kubeconfig and kubectl exist and the apiserver answers /readyz with ok. */
export async function isClusterReady(): Promise<boolean> {
  if (!existsSync(kubeconfigPath) || !existsSync(kubectlPath)) return false;
  try {
    return (await kubectl(['get', '--raw', '/readyz'], { timeoutMs: 5_000 })).trim() === 'ok';
  } catch {
    return false;
  }
}

export interface EnsureClusterOptions {
  /** bound for up.sh (which may include a cold build); default: none */
  timeoutMs?: number;
  /** stream up.sh's progress (build and start-up log lines) to this process's stderr */
  progress?: boolean;
}

function runUp({ timeoutMs = 0, progress = false }: EnsureClusterOptions): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(repoRoot, 'hack', 'controlplane', 'up.sh'), [], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (b: Buffer) => {
      if (progress) process.stderr.write(b);
      output += b.toString('utf8');
      if (output.length > 64 * 1024) output = output.slice(-64 * 1024);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    // The first run may build Kubernetes from source (tens of minutes); let the caller bound it.
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            child.kill('SIGTERM');
            reject(new Error(`hack/controlplane/up.sh timed out after ${timeoutMs}ms\n${output}`));
          }, timeoutMs)
        : undefined;
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise();
      else reject(new Error(`hack/controlplane/up.sh exited with ${code}\n${output}`));
    });
  });
}

let pending: Promise<ClusterInfo> | undefined;

/**
 * Makes sure the local control plane is up: reuses a healthy running cluster, otherwise runs
 * hack/controlplane/up.sh (which builds the binaries when the cache is cold, and serialises
 * concurrent callers with a lock). Memoised per process.
 */
export function ensureCluster(opts: EnsureClusterOptions = {}): Promise<ClusterInfo> {
  pending ??= (async () => {
    if (!(await isClusterReady())) {
      await runUp(opts);
      if (!(await isClusterReady())) throw new Error('cluster did not become ready after up.sh');
    }
    return { kubeconfigPath, server: serverFromKubeconfig() };
  })();
  pending.catch(() => {
    pending = undefined; // allow a retry after a failure
  });
  return pending;
}
