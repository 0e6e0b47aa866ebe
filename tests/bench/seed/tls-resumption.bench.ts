// TLS session resumption across shim processes (ADR 0004, "not taken"): a fresh process per call
// doing what the shim's connection does (node:http2 over TLS 1.3 with an EC P-256 client certificate)
// against an http2 server that requires client certificates (as grpc-js does), with a full handshake
// or resuming the session ticket the previous process saved to a file (written 0600, atomically).
// Interleaved; medians of the client's wall time and CPU; the server's CPU per connection.
//   node --disable-warning=DEP0180 --import ./hack/register-ts.mjs tests/bench/seed/tls-resumption.bench.ts [runs]
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makePki } from '../../../ipam-plugin/test/support/pki.js';

const run = promisify(execFile);
const N = Number(process.argv[2] ?? 30);
const pki = makePki('node-1');
const client = fileURLToPath(new URL('./tls-resumption-client.cjs', import.meta.url));
const srv = http2.createSecureServer({ key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true, rejectUnauthorized: true });
// The server must still see the client's certificate on a resumed session (the operator's identity check).
srv.on('stream', (st) => {
  const c = (st.session!.socket as import('node:tls').TLSSocket).getPeerCertificate();
  st.respond({ ':status': 200 });
  st.end(String(c?.subject?.CN ?? 'NONE'));
});
await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
const port = (srv.address() as { port: number }).port;
type R = { ms: number; cpuMs: number; reused: boolean; peer: string };
const once = async (mode: string): Promise<R> => JSON.parse((await run(process.execPath, [client, pki.dir, String(port), mode])).stdout) as R;
await once('full');
await once('resume');
const res: Record<string, R[]> = { full: [], resume: [] };
const serverCpu: Record<string, number> = { full: 0, resume: 0 };
for (let i = 0; i < N; i++) {
  for (const m of ['full', 'resume']) {
    const c0 = process.cpuUsage();
    res[m]!.push(await once(m));
    const c = process.cpuUsage(c0);
    serverCpu[m]! += (c.user + c.system) / 1000;
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const m of ['full', 'resume']) {
  const r = res[m]!;
  console.log(JSON.stringify({ mode: m, runs: N, wallMs: +med(r.map((x) => x.ms)).toFixed(1), clientCpuMs: +med(r.map((x) => x.cpuMs)).toFixed(1), serverCpuMsPerConnection: +(serverCpu[m]! / N).toFixed(2), resumed: r.filter((x) => x.reused).length, peerSeenByServer: [...new Set(r.map((x) => x.peer))] }));
}
srv.close();
process.exit(0);
