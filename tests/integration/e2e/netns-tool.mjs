// Small network helpers the end-to-end test runs inside network namespaces (`ip netns exec <ns> node
// netns-tool.mjs …`); the machine has no ping, and a TCP exchange proves more than an echo anyway.
//
//   relay  <host> <port> <unix-socket>   listen on host:port in this netns, pipe each connection to
//                                        the unix socket (a path socket is not bound to a netns: the
//                                        test process serves it from the root namespace)
//   serve  <ip> <port>                   answer every connection with "hello from <ip>\n"
//   probe  <ip> <port> [timeoutMs]       connect, print what the server says, exit 0; exit 1 on error
// `relay` and `serve` print "ready" on stdout once listening and run until killed.
import { connect, createServer } from 'node:net';

const [mode, a, b, c] = process.argv.slice(2);

if (mode === 'relay') {
  const server = createServer((inbound) => {
    const outbound = connect(c);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    const close = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', close);
    outbound.on('error', close);
    inbound.on('close', close);
    outbound.on('close', close);
  });
  server.listen(Number(b), a, () => process.stdout.write('ready\n'));
} else if (mode === 'serve') {
  const server = createServer((s) => {
    s.on('error', () => undefined);
    s.end(`hello from ${a}\n`);
  });
  server.listen(Number(b), a, () => process.stdout.write('ready\n'));
} else if (mode === 'probe') {
  const timeoutMs = Number(c ?? 3000);
  const s = connect({ host: a, port: Number(b) });
  let got = '';
  const timer = setTimeout(() => {
    process.stderr.write(`probe ${a}:${b}: no answer within ${timeoutMs} ms\n`);
    process.exit(1);
  }, timeoutMs);
  s.on('data', (d) => (got += d.toString('utf8')));
  s.on('end', () => {
    clearTimeout(timer);
    process.stdout.write(got);
    process.exit(0);
  });
  s.on('error', (e) => {
    clearTimeout(timer);
    process.stderr.write(`probe ${a}:${b}: ${e.message}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write(`usage: netns-tool.mjs relay|serve|probe …\n`);
  process.exit(2);
}
