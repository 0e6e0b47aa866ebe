// Jest global teardown: stop the local control plane if this run started it, so CI leaves no
// processes behind; a cluster a developer started by hand (npm run cluster:up) is left running.
// SPIDERPOOL_TS_KEEP_CLUSTER=1 keeps it either way (for poking at it after a failure).
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { clusterDir, repoRoot } from './cluster.ts';

export const startedMarker = join(clusterDir, '.started-by-jest');

export default function globalTeardown(): void {
  if (!existsSync(startedMarker)) return;
  rmSync(startedMarker, { force: true });
  if (process.env.SPIDERPOOL_TS_KEEP_CLUSTER === '1') return;
  execFileSync(join(repoRoot, 'hack', 'controlplane', 'down.sh'), { stdio: 'inherit' });
}
