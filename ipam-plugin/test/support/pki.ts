// A throwaway PKI for tests: a CA, a server certificate for 127.0.0.1 / operator.test, and a client
// (node) certificate, made with the openssl CLI in a temporary directory. EC P-256 keeps it fast.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function issue(dir: string, name: string, subject: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext + '\n');
  openssl(dir, ['req', '-new', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${name}.crt`, '-extfile', `${name}.ext`]);
}

/** `nodeName` goes into the client certificate's CN, as the operator would issue it. */
export function makePki(nodeName = 'node-1'): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'spts-pki-'));
  openssl(dir, ['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=spiderpool-ts test CA', '-days', '1']);
  issue(dir, 'server', '/CN=operator.test', 'subjectAltName=IP:127.0.0.1,DNS:operator.test\nextendedKeyUsage=serverAuth');
  issue(dir, 'client', `/CN=${nodeName}`, 'extendedKeyUsage=clientAuth');
  const f = (n: string) => join(dir, n);
  return {
    dir,
    caFile: f('ca.crt'),
    serverCertFile: f('server.crt'),
    serverKeyFile: f('server.key'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
    ca: readFileSync(f('ca.crt')),
    serverCert: readFileSync(f('server.crt')),
    serverKey: readFileSync(f('server.key')),
  };
}
