import { X509Certificate } from 'node:crypto';
import { caFromSecret, caSecret, createCA, ensureCA, memorySecretStore, type SecretStore } from '../../src/security/ca.js';
import { x509 } from '../../src/security/x509.js';

describe('CA', () => {
  test('a fresh CA is a self-signed P-256 CA certificate valid ~10 years', async () => {
    const now = new Date('2026-11-21T00:00:00Z');
    const ca = await createCA({ now });
    const c = new X509Certificate(ca.certPem);
    expect(c.ca).toBe(true);
    expect(c.checkIssued(c)).toBe(true);
    expect(c.verify(c.publicKey)).toBe(true);
    expect(c.publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: 'prime256v1' });
    expect(c.subject).toContain('CN=spiderpool-ts CA');
    const years = (Date.parse(c.validTo) - now.getTime()) / (365.25 * 86_400_000);
    expect(years).toBeGreaterThan(9.9);
    expect(ca.cert.getExtension(x509.KeyUsagesExtension)!.usages & x509.KeyUsageFlags.keyCertSign).toBeTruthy();
  });

  test('Secret round trip: kubernetes.io/tls + ca.crt, loaded CA has the same certificate and key', async () => {
    const ca = await createCA();
    const secret = await caSecret(ca, 'spiderpool-ts-system');
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Object.keys(secret.data!).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(Buffer.from(secret.data!['tls.key']!, 'base64').toString()).toContain('-----BEGIN PRIVATE KEY-----');
    const loaded = await caFromSecret(secret);
    if (!loaded.ok) throw new Error(loaded.error.message);
    expect(loaded.value.certPem).toBe(ca.certPem);
    // the loaded key signs what the original public key verifies
    const data = Buffer.from('x');
    const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, loaded.value.privateKey, data);
    expect(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, ca.publicKey, sig, data)).toBe(true);
  });

  test('a Secret whose key is not the certificate key, or with a missing field, is refused (never overwritten)', async () => {
    const a = await caSecret(await createCA(), 'ns');
    const b = await caSecret(await createCA(), 'ns');
    const mixed = { ...a, data: { ...a.data, 'tls.key': b.data!['tls.key']! } };
    const r = await caFromSecret(mixed);
    expect(r).toMatchObject({ ok: false, error: { reason: 'malformed-secret' } });
    if (!r.ok) expect(r.error.message).toContain('not the key of tls.crt');
    const missing = { ...a, data: { 'tls.crt': a.data!['tls.crt']! } };
    expect(await caFromSecret(missing)).toMatchObject({ ok: false, error: { reason: 'malformed-secret' } });

    const store = memorySecretStore();
    await store.create('ns', { ...mixed, metadata: { name: 'spiderpool-ts-ca', namespace: 'ns' } });
    expect(await ensureCA(store, { namespace: 'ns' })).toMatchObject({ ok: false, error: { reason: 'malformed-secret', secret: 'ns/spiderpool-ts-ca' } });
    expect(store.secrets.get('ns/spiderpool-ts-ca')!.data!['tls.key']).toBe(b.data!['tls.key']); // untouched
  });

  test('an expired CA is an error value', async () => {
    const s = await caSecret(await createCA({ validityDays: 1 }), 'ns');
    expect(await caFromSecret(s, new Date(Date.now() + 2 * 86_400_000))).toMatchObject({ ok: false, error: { reason: 'ca-expired' } });
  });

  test('ensureCA creates once, then loads the same CA', async () => {
    const store = memorySecretStore();
    const first = await ensureCA(store, { namespace: 'ns' });
    const second = await ensureCA(store, { namespace: 'ns' });
    if (!first.ok || !second.ok) throw new Error('ensureCA failed');
    expect(first.value.origin).toBe('created');
    expect(second.value.origin).toBe('loaded');
    expect(second.value.ca.certPem).toBe(first.value.ca.certPem);
  });

  test('racing replicas end with one CA: the losers adopt the winner', async () => {
    // Both read "absent" before either creates: the apiserver's 409 decides.
    const inner = memorySecretStore();
    let reads = 0;
    const gate: Array<() => void> = [];
    const store: SecretStore = {
      async read(ns, name) {
        const r = await inner.read(ns, name);
        if (++reads <= 5) await new Promise<void>((res) => (gate.push(res), gate.length === 5 && gate.splice(0).forEach((f) => f())));
        return r;
      },
      create: (ns, s) => inner.create(ns, s),
    };
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => ensureCA(store, { namespace: 'ns' })));
    const pems = new Set(results.map((r) => (r.ok ? r.value.ca.certPem : r.error.message)));
    expect(pems.size).toBe(1);
    expect(results.map((r) => (r.ok ? r.value.origin : 'error')).sort()).toEqual(['adopted', 'adopted', 'adopted', 'adopted', 'created']);
    expect(inner.secrets.size).toBe(1);
  });

  test('an API failure is an error value naming the Secret', async () => {
    const store: SecretStore = {
      read: () => Promise.reject(new Error('connection refused')),
      create: () => Promise.resolve('created'),
    };
    expect(await ensureCA(store, { namespace: 'ns' })).toMatchObject({
      ok: false,
      error: { reason: 'api-error', secret: 'ns/spiderpool-ts-ca', message: expect.stringContaining('connection refused') },
    });
  });
});
