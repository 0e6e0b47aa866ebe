// config/prometheus fits the Deployment it monitors: the ServiceMonitor selects the metrics Service,
// whose selector matches the operator's pod labels and whose target port is the container port that
// serves /metrics (the health port, HEALTH_PORT); kustomization lists every manifest.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { repoRoot } from '../../src/metrics/gen/files.js';

type Obj = { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: Record<string, unknown> };
const load = (...p: string[]): Obj => parse(readFileSync(join(repoRoot, ...p), 'utf8')) as Obj;
const subset = (want: Record<string, string>, have: Record<string, string> = {}) => Object.entries(want).every(([k, v]) => have[k] === v);

describe('monitoring manifests', () => {
  const monitor = load('config', 'prometheus', 'servicemonitor.yaml');
  const service = load('config', 'prometheus', 'service.yaml');
  const deployment = parseAllDocuments(readFileSync(join(repoRoot, 'config', 'manager', 'manager.yaml'), 'utf8'))
    .map((d) => d.toJS() as Obj)
    .find((o) => o?.kind === 'Deployment')!;
  const template = deployment.spec.template as { metadata: { labels: Record<string, string> }; spec: { containers: { name: string; ports?: { name: string; containerPort: number }[]; env?: { name: string; value?: string }[] }[] } };
  const operator = template.spec.containers.find((c) => c.name === 'operator')!;

  test('ServiceMonitor → Service → operator pods → the port serving /metrics', () => {
    const sm = monitor.spec as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] };
    expect(subset(sm.selector.matchLabels, service.metadata.labels)).toBe(true);
    const svc = service.spec as { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
    expect(subset(svc.selector, template.metadata.labels)).toBe(true);
    expect(sm.endpoints.map((e) => [e.port, e.path])).toEqual([['metrics', '/metrics']]);
    const port = svc.ports.find((p) => p.name === 'metrics')!;
    const containerPort = operator.ports?.find((p) => p.name === port.targetPort);
    expect(containerPort).toBeDefined();
    expect(operator.env?.find((e) => e.name === 'HEALTH_PORT')?.value).toBe(String(containerPort!.containerPort));
    // The operator's own Service (gRPC) must not be selected: it has no metrics port.
    const grpcService = load('config', 'manager', 'service.yaml');
    expect(subset(sm.selector.matchLabels, grpcService.metadata.labels)).toBe(false);
  });

  test('the kustomization lists the Service, the ServiceMonitor and the PrometheusRule (not the generated rules.yaml)', () => {
    const k = load('config', 'prometheus', 'kustomization.yaml') as unknown as { resources: string[] };
    expect(k.resources.sort()).toEqual(['prometheusrule.yaml', 'service.yaml', 'servicemonitor.yaml']);
    expect(load('config', 'prometheus', 'prometheusrule.yaml').kind).toBe('PrometheusRule');
  });
});
