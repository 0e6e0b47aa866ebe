// The HTTPS endpoint the apiserver calls for admission (config/webhook/): one path per kind and
// purpose. TLS with a serving certificate the operator's CA issued at start (webhook/certs.ts); the
// apiserver trusts it through the configuration's caBundle. A handler that throws is answered as a
// refusal that says to retry — never a crash, never a silent allow.
import { type Server, createServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../framework/logger.js';
import { type AdmissionReview, type Verdict, toResponse, unavailable } from './admission.js';
import { type AdmissionDeps, admitPool, admitReservedIP, admitSubnet, mutatePool } from './pool-admission.js';

export const WEBHOOK_PATHS = {
  validatePool: '/validate-spiderippool',
  mutatePool: '/mutate-spiderippool',
  validateSubnet: '/validate-spidersubnet',
  validateReservedIP: '/validate-spiderreservedip',
} as const;

/** AdmissionReviews carry the object twice on update; Kubernetes objects stay under ~1.5 MiB. */
const MAX_BODY = 4 * 1024 * 1024;

export interface WebhookServerOptions {
  /** Leaf + CA, PEM. */
  certChainPem: string;
  keyPem: string;
  deps: AdmissionDeps;
  log: Logger;
}

export class WebhookServer {
  private readonly server: Server;

  constructor(private readonly opts: WebhookServerOptions) {
    this.server = createServer({ cert: opts.certChainPem, key: opts.keyPem, minVersion: 'TLSv1.2' }, (req, res) => void this.handle(req, res));
  }

  /** Resolves with the bound port (0 picks a free one). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    const route = this.route(path ?? '');
    if (req.method !== 'POST' || route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no admission endpoint ${req.method} ${path}\n`);
      return;
    }
    let review: AdmissionReview;
    try {
      review = JSON.parse(await readBody(req)) as AdmissionReview;
    } catch (e) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`body is not an AdmissionReview: ${(e as Error).message}\n`);
      return;
    }
    const r = review.request;
    if (r === undefined || typeof r.uid !== 'string') {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('AdmissionReview without request.uid\n');
      return;
    }
    const name = (r.object as { metadata?: { name?: string } } | undefined)?.metadata?.name ?? r.name;
    const log = this.opts.log.child({ kind: r.kind?.kind, name, operation: r.operation, path });
    let verdict: Verdict;
    const started = performance.now();
    try {
      verdict = await route(review);
    } catch (e) {
      log.error('admission handler failed', { error: e });
      verdict = unavailable((e as Error)?.message ?? String(e));
    }
    const response = toResponse(r.uid, r.kind?.kind ?? '', name, verdict);
    const ms = Math.round((performance.now() - started) * 10) / 10;
    if (verdict.allowed) log.debug('admitted', { ms, patched: verdict.patch !== undefined });
    else log.info('refused', { ms, message: response.status?.message });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
  }

  private route(path: string): ((review: AdmissionReview) => Promise<Verdict>) | undefined {
    const deps = this.opts.deps;
    switch (path) {
      case WEBHOOK_PATHS.validatePool:
        return (rv) => admitPool(rv.request!, deps);
      case WEBHOOK_PATHS.mutatePool:
        return async (rv) => mutatePool(rv.request!);
      case WEBHOOK_PATHS.validateSubnet:
        return (rv) => admitSubnet(rv.request!, deps);
      case WEBHOOK_PATHS.validateReservedIP:
        return async (rv) => admitReservedIP(rv.request!);
      default:
        return undefined;
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error(`larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
