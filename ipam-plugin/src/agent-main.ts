// spiderpool-ts-agent: the long-lived node-local agent (ADR 0013). The CNI shim hands it each request
// over a root-only unix socket; it forwards them to the operator over one persistent mTLS gRPC
// connection with the node's certificate, so a CNI call costs neither a TLS handshake nor loading
// node:tls/node:http2 in the shim. Logs are JSON lines on stderr.
import { Logger } from './log.js';
import { AgentConfigError, parseAgentConfig, USAGE } from './agent/config.js';
import { AgentServer } from './agent/server.js';
import { Upstream } from './agent/upstream.js';

const log = new Logger();

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const config = parseAgentConfig(process.argv.slice(2), process.env);
  log.configure(config.logLevel, '');
  log.with({ component: 'spiderpool-ts-agent' });
  const upstream = new Upstream(config, { onReconnect: (why) => log.info('dropping the operator connection; the next call reconnects', { endpoint: config.endpoint, why }) });
  const server = new AgentServer({ socketPath: config.socketPath, forwarder: upstream, log, drainMs: config.drainMs });
  await server.listen();
  log.info('listening', { socket: config.socketPath, endpoint: config.endpoint, serverName: config.serverName, timeoutMs: config.timeoutMs });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping: no new connections, finishing in-flight calls', { signal, drainMs: config.drainMs });
    void server.close().then(() => {
      log.info('stopped', { signal });
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  const message = e instanceof AgentConfigError ? e.message : `cannot start: ${(e as Error).message}`;
  log.error(message);
  process.exit(2);
});
