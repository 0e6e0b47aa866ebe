// Test helpers: a node-side key + CSR, as the enroll client makes them.
import { EC_P256, generateP256, privateKeyPem, x509 } from '../../src/security/x509.js';

export async function nodeCsr(subject: x509.JsonName | string, alg: 'p256' | 'p384' = 'p256'): Promise<{ csrPem: string; keyPem: string }> {
  const algorithm = alg === 'p256' ? EC_P256 : { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' };
  const keys = alg === 'p256' ? await generateP256() : ((await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: typeof subject === 'string' ? subject : new x509.Name(subject),
    keys,
    signingAlgorithm: algorithm,
  });
  return { csrPem: csr.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

type CryptoKeyPair = import('node:crypto').webcrypto.CryptoKeyPair;
