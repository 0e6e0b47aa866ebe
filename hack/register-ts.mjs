// Lets `node --import ./hack/register-ts.mjs script.ts` run TypeScript scripts through ts-node's ESM
// loader (transpile-only with SWC: type errors are caught by `npm run typecheck`, not at start-up).
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

register('ts-node/esm', pathToFileURL('./'));
