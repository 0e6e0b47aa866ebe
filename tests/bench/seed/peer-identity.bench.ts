// CPU per gRPC call of turning the client certificate into a node name (operator/src/security/
// peer-identity.ts): the uncached path (X509 parse + issuer signature check, what every Allocate and
// Release paid) against nodeAuthenticator's per-certificate cache.
//   node --disable-warning=DEP0180 --import ./hack/register-ts.mjs tests/bench/seed/peer-identity.bench.ts
import { X509Certificate } from 'node:crypto';
import { createCA } from '../../../operator/src/security/ca.js';
import { signNodeCsr } from '../../../operator/src/security/issue.js';
import { nodeAuthenticator, nodeIdentityFromCall } from '../../../operator/src/security/peer-identity.js';
import { nodeCsr } from '../../../operator/test/security/helpers.js';

const ca = await createCA();
const { csrPem } = await nodeCsr([{ CN: ['worker-1'] }]);
const signed = await signNodeCsr(ca, csrPem, { nodeName: 'worker-1' });
if (!signed.ok) throw new Error(signed.error.message);
const auth = { transportSecurityType: 'ssl', sslPeerCertificate: { raw: new X509Certificate(signed.value.certPem).raw } as never };
const N = 2000;
function time(label: string, f: () => unknown): void {
  for (let i = 0; i < 50; i++) f();
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) f();
  const c = process.cpuUsage(c0);
  console.log(label, { cpuPerCallMs: +((c.user + c.system) / 1000 / N).toFixed(4) });
}
const cached = nodeAuthenticator({ ca: ca.nodeCert });
time('uncached (parse + verify per call)', () => nodeIdentityFromCall({ getAuthContext: () => auth }, { ca: ca.nodeCert }));
time('nodeAuthenticator (cached per certificate)', () => cached(auth));
