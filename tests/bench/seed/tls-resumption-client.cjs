// One fresh process = the TLS part of one shim exec: read CA/cert/key, http2 connect with the client
// certificate (optionally resuming the TLS session saved by the previous process), one request, exit.
// Prints {ms, cpuMs, reused, peer}. Driven by tls-resumption.bench.ts.
const t0 = performance.now();
const http2 = require('node:http2'); const tls = require('node:tls'); const fs = require('node:fs');
const [,, dir, port, mode] = process.argv;
const ca = fs.readFileSync(dir + '/ca.crt'), cert = fs.readFileSync(dir + '/client.crt'), key = fs.readFileSync(dir + '/client.key');
const sessFile = dir + '/session.bin';
let session; if (mode === 'resume') { try { session = fs.readFileSync(sessFile); } catch {} }
const s = http2.connect('https://127.0.0.1:' + port, { createConnection: () => {
  const sock = tls.connect({ host: '127.0.0.1', port: +port, ca, cert, key, servername: 'operator.test', ALPNProtocols: ['h2'], ...(session ? { session } : {}) });
  if (mode === 'resume') sock.on('session', (buf) => { const tmp = sessFile + '.' + process.pid; fs.writeFileSync(tmp, buf, { mode: 0o600 }); fs.renameSync(tmp, sessFile); });
  sock.on('secureConnect', () => { globalThis.reused = sock.isSessionReused(); });
  return sock; } });
const req = s.request({ ':path': '/x', ':method': 'POST' });
let body = ''; req.on('data', (c) => body += c); req.on('end', () => { s.close(); });
req.end();
s.on('close', () => { const u = process.resourceUsage(); console.log(JSON.stringify({ ms: performance.now() - t0, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, reused: globalThis.reused, peer: body })); });
