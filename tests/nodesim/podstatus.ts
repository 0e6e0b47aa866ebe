// Pod status as the kubelet's status manager reports it for a running pod: phase Running, host and
// pod IPs, startTime, the standard conditions and one running containerStatus per container (init
// containers Completed). Sent as a merge patch on the status subresource with metadata.uid as a
// precondition (a recreated pod of the same name is never touched).
import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { rfc3339 } from './kube.js';
import type { SandboxRecord } from './sandboxes.js';

const OUR_CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready', 'PodScheduled'];

const ts = (v: unknown): string | undefined => (v ? rfc3339(new Date(v as string | Date)) : undefined);

export function runningStatusPatch(pod: V1Pod, sb: SandboxRecord, hostIP: string): Record<string, unknown> {
  const now = rfc3339();
  const old = pod.status ?? {};
  const oldConds = old.conditions ?? [];
  const gatesOk = (pod.spec?.readinessGates ?? []).every((g) => oldConds.some((c) => c.type === g.conditionType && c.status === 'True'));
  const cond = (type: string, status: string): V1PodCondition => {
    const prev = oldConds.find((c) => c.type === type);
    const lastTransitionTime = prev && prev.status === status && prev.lastTransitionTime ? ts(prev.lastTransitionTime) : now;
    return { type, status, lastProbeTime: null as never, lastTransitionTime: lastTransitionTime as never };
  };
  const conditions: V1PodCondition[] = [
    ...oldConds.filter((c) => !OUR_CONDITIONS.includes(c.type)),
    cond('PodReadyToStartContainers', 'True'),
    cond('Initialized', 'True'),
    cond('ContainersReady', 'True'),
    cond('Ready', gatesOk ? 'True' : 'False'),
    cond('PodScheduled', 'True'),
  ];
  const prevStatus = (list: V1ContainerStatus[] | undefined, name: string) => list?.find((s) => s.name === name);
  const restarted = (prev: V1ContainerStatus | undefined, id: string) =>
    prev?.containerID !== undefined && prev.containerID !== `containerd://${id}`;
  const containerStatuses = (pod.spec?.containers ?? []).map((c) => {
    const id = sb.containers[c.name] ?? '';
    const prev = prevStatus(old.containerStatuses, c.name);
    const again = restarted(prev, id);
    return {
      name: c.name,
      image: c.image ?? '',
      imageID: `${c.image ?? 'image'}@sha256:${'0'.repeat(64)}`,
      containerID: `containerd://${id}`,
      ready: true,
      started: true,
      restartCount: (prev?.restartCount ?? 0) + (again ? 1 : 0),
      state: { running: { startedAt: now } },
      // After a power cycle the kubelet reports the dead container as terminated, reason Unknown.
      lastState: again ? { terminated: { exitCode: 255, reason: 'Unknown', containerID: prev!.containerID, startedAt: ts(prev!.state?.running?.startedAt), finishedAt: now } } : {},
    };
  });
  const initContainerStatuses = (pod.spec?.initContainers ?? []).map((c) => ({
    name: c.name,
    image: c.image ?? '',
    imageID: `${c.image ?? 'image'}@sha256:${'0'.repeat(64)}`,
    containerID: `containerd://${sb.containers[c.name] ?? ''}`,
    ready: true,
    restartCount: 0,
    state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now, containerID: `containerd://${sb.containers[c.name] ?? ''}` } },
  }));
  const status: Record<string, unknown> = {
    phase: 'Running',
    conditions,
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP: sb.ips[0],
    podIPs: sb.ips.map((ip) => ({ ip })),
    startTime: ts(old.startTime) ?? now,
    containerStatuses,
  };
  if (initContainerStatuses.length) status.initContainerStatuses = initContainerStatuses;
  return { metadata: { uid: pod.metadata!.uid }, status };
}

/** Does the pod's current API status already say what this sandbox says? */
export function statusReflects(pod: V1Pod, sb: SandboxRecord, hostIP: string): boolean {
  const st = pod.status;
  if (!st || st.phase !== 'Running' || st.hostIP !== hostIP) return false;
  const ips = (st.podIPs ?? []).map((p) => p.ip);
  if (ips.length !== sb.ips.length || ips.some((ip, i) => ip !== sb.ips[i])) return false;
  const conds = st.conditions ?? [];
  const gatesOk = (pod.spec?.readinessGates ?? []).every((g) => conds.some((c) => c.type === g.conditionType && c.status === 'True'));
  if (conds.find((c) => c.type === 'Ready')?.status !== (gatesOk ? 'True' : 'False')) return false;
  for (const c of pod.spec?.containers ?? []) {
    const cs = st.containerStatuses?.find((s) => s.name === c.name);
    if (!cs || cs.containerID !== `containerd://${sb.containers[c.name] ?? ''}` || !cs.state?.running) return false;
  }
  return true;
}
