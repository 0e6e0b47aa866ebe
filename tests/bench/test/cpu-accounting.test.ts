import { cpuByComponent, type CpuSnapshot, snapshotCpu } from '../seed/cpu-accounting.js';

const proc = (ppid: number, name: string, self: number, children = 0) => ({ ppid, name, self, children });

// harness 100 → simulator 200 (→ plugin execs, reaped) and an operator 300 and an agent 301;
// apiserver 400 from the control plane's pid file; someone else's process 500.
const roles = { self: 100, simulators: [200, 210], controlPlane: new Map([[400, 'kube-apiserver']]) };

test('splits the CPU of a phase by component, counting only what was spent in it', () => {
  const before: CpuSnapshot = new Map([
    [100, proc(1, 'seed/main.ts', 5)],
    [200, proc(100, 'nodesim/main.ts', 2, 10)],
    [300, proc(100, 'operator/src/main.ts', 7)],
    [301, proc(100, 'dist/agent.mjs', 1)],
    [400, proc(1, 'kube-apiserver', 50)],
    [500, proc(1, 'make', 3)],
  ]);
  const after: CpuSnapshot = new Map([
    [100, proc(1, 'seed/main.ts', 6)],
    [200, proc(100, 'nodesim/main.ts', 4, 40)],
    [300, proc(100, 'operator/src/main.ts', 9.5)],
    [301, proc(100, 'dist/agent.mjs', 1.5)],
    // A shim exec still running under the simulator: not a daemon (its CPU is counted once reaped).
    [302, proc(200, 'spiderpool-ts-ipam', 0.4)],
    [400, proc(1, 'kube-apiserver', 62)],
    [500, proc(1, 'make', 4)],
    // Started during the phase: all of its CPU is the phase's.
    [501, proc(1, 'gcc', 2)],
  ]);
  expect(cpuByComponent(before, after, roles)).toEqual({
    harness: 1,
    'plugin execs': 30,
    simulator: 2,
    'ipam daemon: operator/src/main.ts': 2.5,
    'ipam daemon: dist/agent.mjs': 0.5,
    'kube-apiserver': 12,
    other: 3,
  });
});

test('a simulator restarted during the phase (power cycle) counts from its start', () => {
  const before: CpuSnapshot = new Map([[200, proc(100, 'nodesim/main.ts', 2, 10)]]);
  const after: CpuSnapshot = new Map([[210, proc(100, 'nodesim/main.ts', 3, 25)]]);
  expect(cpuByComponent(before, after, roles)).toEqual({ 'plugin execs': 25, simulator: 3 });
});

test('names a process by the script it runs, not by a module preloaded with --import', () => {
  const now = snapshotCpu();
  // jest runs as `node [flags] …/jest.js …`: named after jest's script.
  expect(now.get(process.pid)?.name).toMatch(/jest/);
});

test('reads this process from /proc', () => {
  const now = snapshotCpu();
  expect(now.get(process.pid)?.self).toBeGreaterThan(0);
  expect(now.get(process.pid)?.ppid).toBe(process.ppid);
});
