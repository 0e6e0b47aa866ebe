// Plain JSON requests to the apiserver, for the one hot path that must be lean: the allocator's
// IPAMBlock writes (a full block is ~50 KB of JSON, written once per group commit).
//
// Why not client-node's generated API for it: its request pipeline (ObjectSerializer, the fetch API
// and its web streams) cost 2.2–2.9 ms of client CPU and 27–44 ms wall per replace of a full block,
// against 1.4–1.7 ms and 11–23 ms for the same request through undici.request on the same credentials
// (tests/bench/block-write.bench.ts, same run, 100 writes per round; docs/adr/0005). Credentials,
// TLS and the keep-alive pool still come from client-node: each request is authenticated by
// `auth` (e.g. pooledAuth(kc)), which also hands over the pooled dispatcher — so token rotation,
// exec plugins and client certificates behave exactly as for every other client.
import { ApiException, HttpMethod, RequestContext, type SecurityAuthentication } from '@kubernetes/client-node';
import { type Dispatcher, request } from 'undici';

export type JsonMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export class KubeJsonClient {
  constructor(
    /** The cluster's server URL, e.g. "https://127.0.0.1:6443". */
    private readonly server: string,
    private readonly auth: SecurityAuthentication,
  ) {}

  /**
   * One request; the parsed JSON answer of a 2xx. Anything else throws client-node's ApiException
   * (code + body), so callers map failures exactly as for the generated clients.
   */
  async call<T>(method: JsonMethod, path: string, body?: unknown): Promise<T> {
    const url = this.server + path;
    const context = new RequestContext(url, method as HttpMethod);
    await this.auth.applySecurityAuthentication(context);
    const headers: Record<string, string> = { ...context.getHeaders(), accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await request(url, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(context.getDispatcher() ? { dispatcher: context.getDispatcher() as unknown as Dispatcher } : {}),
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode > 299) {
      throw new ApiException<string>(res.statusCode, `${method} ${path}`, text, headersOf(res.headers));
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

function headersOf(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
