// A throwaway kustomize overlay over one of config/'s kustomizations, so a test can apply the real
// manifests without touching anything shared: every namespaced object moves to the test's namespace
// and every name (cluster-scoped ClusterRoles and bindings included) gets the test's prefix. kustomize
// leaves CRD and Namespace names alone and rewrites the references (roleRef, subjects,
// serviceAccountName) itself. kustomize refuses absolute resource paths, so the base is named
// relative to the overlay directory.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KubectlError, kubectl, repoRoot } from '../../support/cluster.js';

export interface Overlay {
  dir: string;
  /** `kubectl kustomize <dir>` output */
  build(): Promise<string>;
  remove(): void;
}

export function makeOverlay(base: string, opts: { namespace: string; namePrefix: string }): Overlay {
  const dir = mkdtempSync(join(tmpdir(), 'spts-deploy-'));
  const kustomization = [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    `namespace: ${opts.namespace}`,
    `namePrefix: ${opts.namePrefix}`,
    'resources:',
    `  - ${relative(dir, join(repoRoot, base))}`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'kustomization.yaml'), kustomization);
  return { dir, build: () => kubectl(['kustomize', dir]), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [k: string]: unknown;
}

export function parseManifests(text: string): ManifestObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as ManifestObject | null)
    .filter((o): o is ManifestObject => o !== null);
}

/** `kubectl auth can-i` as a ServiceAccount: true for "yes", false for "no" (exit 1), throws otherwise. */
export async function canI(sa: { namespace: string; name: string }, args: readonly string[]): Promise<boolean> {
  const as = `--as=system:serviceaccount:${sa.namespace}:${sa.name}`;
  try {
    const out = await kubectl(['auth', 'can-i', ...args, as]);
    return out.trim() === 'yes';
  } catch (e) {
    if (e instanceof KubectlError && e.code === 1 && /^no\b/.test(e.stdout.trim())) return false;
    throw e;
  }
}
