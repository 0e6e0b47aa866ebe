// Runs dp-tool.mjs inside namespaces: a TCP+UDP server per pod and a prober that tries a list of
// targets over both protocols at once (one process per source pod, not per pair: cheap on 2 cores).
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../support/cluster.js';
import { sh } from './netns.js';

export const DP_TOOL = join(repoRoot, 'tests', 'integration', 'dataplane', 'dp-tool.mjs');

export interface ProbeResult {
  ip: string;
  proto: 'tcp' | 'udp';
  ok: boolean;
  reply?: string;
  error?: string;
}

/** `serve <name> <port>` in `ns`; resolves once it listens. The caller kills it. */
export function startServer(ns: string, name: string, port: number, timeoutMs = 20_000): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, DP_TOOL, 'serve', name, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server ${name} in ${ns} not listening within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString('utf8').includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server ${name} in ${ns} exited (${code ?? signal}): ${stderr}`));
    });
  });
}

export async function probe(ns: string, targets: Array<{ ip: string; port: number }>, timeoutMs = 5000): Promise<ProbeResult[]> {
  const out = await sh('ip', ['netns', 'exec', ns, process.execPath, DP_TOOL, 'probe', String(timeoutMs), JSON.stringify(targets)], timeoutMs + 30_000);
  return JSON.parse(out) as ProbeResult[];
}
