// Process entry of kubectl-spiderpool (the esbuild bundle's entry and `npm run cli`): arguments,
// streams and exit code around runCli.
import { runCli } from './kubectl-spiderpool.js';

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then(
  // exit now: the API client's keep-alive connections would hold the process open for seconds
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`kubectl-spiderpool: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);
