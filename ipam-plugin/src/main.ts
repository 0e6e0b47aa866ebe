// Entry point of the CNI IPAM shim: the runtime gives the command in CNI_* variables and the network
// config on stdin; the answer goes to stdout, logs to stderr and the configured file.
import { readFileSync, writeSync } from 'node:fs';
import { Logger } from './log.js';
import { run } from './plugin.js';

const log = new Logger();
let stdin = '';
try {
  stdin = readFileSync(0, 'utf8');
} catch {
  // No stdin (closed descriptor): the config parser reports an empty configuration.
}
// No top-level await: the same source is bundled as CommonJS for the single executable (ADR 0004).
void run(process.env, stdin, log).then((outcome) => {
  if (outcome.stdout) writeSync(1, outcome.stdout + '\n');
  log.close();
  // Exit now rather than wait for the TLS session to finish closing: the answer is written.
  process.exit(outcome.exitCode);
});
