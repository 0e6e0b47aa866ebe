// TCP and UDP reachability inside network namespaces (`ip netns exec <ns> node dp-tool.mjs …`); the
// machine has no ping, and an application-level answer proves more than an echo anyway.
//
//   serve <name> <port>         TCP and UDP on [::]:<port> (dual stack: IPv4 arrives v4-mapped);
//                               TCP answers "pong <name> <local address>", UDP "pong <name>";
//                               prints "ready" once both listen, runs until killed
//   probe <timeoutMs> <json>    <json> = [{"ip": …, "port": …}]; tries every target over TCP and UDP
//                               at once (UDP resent every 200 ms: the first datagram may wait for
//                               ARP/ND), prints one JSON array [{ip, proto, ok, reply|error}], exit 0
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';

const [mode, ...args] = process.argv.slice(2);
const plain = (a) => (a?.startsWith('::ffff:') ? a.slice(7) : a);

if (mode === 'serve') {
  const [name, port] = args;
  let listening = 0;
  const up = () => ++listening === 2 && process.stdout.write('ready\n');
  const tcp = createServer((s) => {
    s.on('error', () => undefined);
    s.end(`pong ${name} ${plain(s.localAddress)}\n`);
  });
  tcp.listen({ host: '::', port: Number(port), ipv6Only: false }, up);
  const udp = createSocket({ type: 'udp6', ipv6Only: false });
  udp.on('message', (_msg, from) => udp.send(`pong ${name}\n`, from.port, from.address));
  udp.bind(Number(port), '::', up);
} else if (mode === 'probe') {
  const timeoutMs = Number(args[0]);
  const targets = JSON.parse(args[1]);

  const tcpProbe = (ip, port) =>
    new Promise((resolve) => {
      const s = connect({ host: ip, port });
      let got = '';
      const timer = setTimeout(() => {
        s.destroy();
        resolve({ ip, proto: 'tcp', ok: false, error: `no answer within ${timeoutMs} ms` });
      }, timeoutMs);
      s.on('data', (d) => (got += d.toString('utf8')));
      s.on('end', () => {
        clearTimeout(timer);
        resolve({ ip, proto: 'tcp', ok: true, reply: got.trim() });
      });
      s.on('error', (e) => {
        clearTimeout(timer);
        resolve({ ip, proto: 'tcp', ok: false, error: e.message });
      });
    });

  const udpProbe = (ip, port) =>
    new Promise((resolve) => {
      const sock = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
      let resend;
      const done = (r) => {
        clearInterval(resend);
        clearTimeout(timer);
        sock.close();
        resolve(r);
      };
      const timer = setTimeout(() => done({ ip, proto: 'udp', ok: false, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
      sock.on('message', (msg, from) => done({ ip, proto: 'udp', ok: true, reply: `${msg.toString('utf8').trim()} ${plain(from.address)}` }));
      sock.on('error', (e) => done({ ip, proto: 'udp', ok: false, error: e.message }));
      const send = () => sock.send('ping', port, ip);
      send();
      resend = setInterval(send, 200);
    });

  const results = await Promise.all(targets.flatMap((t) => [tcpProbe(t.ip, t.port), udpProbe(t.ip, t.port)]));
  process.stdout.write(JSON.stringify(results) + '\n');
} else {
  process.stderr.write('usage: dp-tool.mjs serve <name> <port> | probe <timeoutMs> <json>\n');
  process.exit(2);
}
