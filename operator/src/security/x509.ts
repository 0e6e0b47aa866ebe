// The one entry to @peculiar/x509 (certificate and PKCS#10 generation on WebCrypto; node:crypto can
// parse and verify certificates but not create them). The library resolves its services through
// tsyringe, which needs a Reflect metadata polyfill loaded first: ES modules evaluate imports in
// order, so importing x509 from here always loads reflect-metadata before it.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { webcrypto } from 'node:crypto';

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type EcKeyAlgorithm = webcrypto.EcKeyAlgorithm;

export { x509 };

/** ECDSA P-256 with SHA-256: every key and signature of our PKI. */
export const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Our certificates' organisation for node client certificates (checked on every gRPC call). */
export const NODE_ORGANIZATION = 'spiderpool-ts:nodes';

export async function generateP256(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** PKCS#8 PEM ("PRIVATE KEY"), the form node:tls and grpc-js accept. */
export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function importP256PrivateKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return crypto.subtle.importKey('pkcs8', der, EC_P256, true, ['sign']);
}

/** A positive random 128-bit serial number (RFC 5280: ≤ 20 octets, unpredictable). */
export function randomSerial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0]! & 0x7f) | 0x01; // positive and never a leading zero octet
  return Buffer.from(b).toString('hex');
}

export const DAY_MS = 86_400_000;
/** notBefore is backdated this much so a peer whose clock is a little behind accepts a fresh cert. */
export const CLOCK_SKEW_MS = 5 * 60_000;
