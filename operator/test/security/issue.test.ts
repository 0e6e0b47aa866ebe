import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createCA, type CertificateAuthority } from '../../src/security/ca.js';
import { issueServerCertificate, isNodeName, signNodeCsr } from '../../src/security/issue.js';
import { NODE_ORGANIZATION } from '../../src/security/x509.js';
import { nodeCsr } from './helpers.js';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

let ca: CertificateAuthority;
let caX509: X509Certificate;
beforeAll(async () => {
  ca = await createCA();
  caX509 = new X509Certificate(ca.certPem);
});

describe('server certificate', () => {
  test('SANs from config, serverAuth, chains to the CA, key matches', async () => {
    const s = await issueServerCertificate(ca, {
      dnsNames: ['spiderpool-ts-operator.kube-system.svc', 'spiderpool-ts-operator.kube-system.svc.cluster.local'],
      ipAddresses: ['127.0.0.1', '::1'],
    });
    const c = new X509Certificate(s.certPem);
    expect(c.checkIssued(caX509)).toBe(true);
    expect(c.verify(caX509.publicKey)).toBe(true);
    expect(c.ca).toBe(false);
    expect(c.keyUsage).toEqual([SERVER_AUTH]);
    expect(c.subjectAltName).toBe(
      'DNS:spiderpool-ts-operator.kube-system.svc, DNS:spiderpool-ts-operator.kube-system.svc.cluster.local, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(c.checkHost('spiderpool-ts-operator.kube-system.svc')).toBe('spiderpool-ts-operator.kube-system.svc');
    expect(c.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(c.checkPrivateKey(createPrivateKey(s.keyPem))).toBe(true);
    expect(s.chainPem).toContain(ca.certPem.trim());
  });

  test('bad IP and empty SAN list are refused', async () => {
    await expect(issueServerCertificate(ca, { dnsNames: [], ipAddresses: ['300.1.1.1'] })).rejects.toThrow('not an IP address');
    await expect(issueServerCertificate(ca, { dnsNames: [] })).rejects.toThrow('no DNS name');
  });
});

describe('node certificate from a CSR', () => {
  test('CN = node, O = spiderpool-ts:nodes, clientAuth only, ~1 year, CSR key, chains to the CA', async () => {
    const now = new Date();
    const { csrPem, keyPem } = await nodeCsr([{ CN: ['worker-1'] }]);
    const r = await signNodeCsr(ca, csrPem, { nodeName: 'worker-1', now });
    if (!r.ok) throw new Error(r.error.message);
    const c = new X509Certificate(r.value.certPem);
    expect(c.subject.split('\n').sort()).toEqual(['CN=worker-1', `O=${NODE_ORGANIZATION}`]);
    expect(c.issuer).toBe(caX509.subject);
    expect(c.checkIssued(caX509)).toBe(true);
    expect(c.verify(caX509.publicKey)).toBe(true);
    expect(c.keyUsage).toEqual([CLIENT_AUTH]);
    expect(c.ca).toBe(false);
    expect(c.subjectAltName).toBeUndefined();
    expect(c.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    const days = (Date.parse(c.validTo) - now.getTime()) / 86_400_000;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThanOrEqual(365);
    expect(Date.parse(c.validFrom)).toBeLessThan(now.getTime()); // backdated for clock skew
    expect(c.serialNumber.toLowerCase()).toBe(r.value.serialNumber.toLowerCase());
  });

  test('two certificates never share a serial number', async () => {
    const { csrPem } = await nodeCsr([{ CN: ['n'] }]);
    const a = await signNodeCsr(ca, csrPem, { nodeName: 'n' });
    const b = await signNodeCsr(ca, csrPem, { nodeName: 'n' });
    expect(a.ok && b.ok && a.value.serialNumber !== b.value.serialNumber).toBe(true);
  });

  test('a CSR for another node is refused with node-mismatch naming both', async () => {
    const { csrPem } = await nodeCsr([{ CN: ['worker-2'] }]);
    const r = await signNodeCsr(ca, csrPem, { nodeName: 'worker-1' });
    expect(r).toMatchObject({ ok: false, error: { reason: 'node-mismatch' } });
    if (!r.ok) expect(r.error.message).toBe('CSR asks for node "worker-2", but the caller is authorised for node worker-1');
  });

  test('extra subject attributes (e.g. O=system:masters) are refused, not copied', async () => {
    const { csrPem } = await nodeCsr([{ CN: ['worker-1'] }, { O: ['system:masters'] }]);
    expect(await signNodeCsr(ca, csrPem, { nodeName: 'worker-1' })).toMatchObject({ ok: false, error: { reason: 'csr-subject' } });
    const { csrPem: twoCn } = await nodeCsr([{ CN: ['worker-1', 'worker-2'] }]);
    expect(await signNodeCsr(ca, twoCn, { nodeName: 'worker-1' })).toMatchObject({ ok: false, error: { reason: 'csr-subject' } });
  });

  test('non-P-256 keys, garbage, tampered signatures and bad node names are refused', async () => {
    const { csrPem: p384 } = await nodeCsr([{ CN: ['worker-1'] }], 'p384');
    expect(await signNodeCsr(ca, p384, { nodeName: 'worker-1' })).toMatchObject({ ok: false, error: { reason: 'unsupported-key' } });
    expect(await signNodeCsr(ca, 'hello', { nodeName: 'worker-1' })).toMatchObject({ ok: false, error: { reason: 'invalid-csr' } });
    expect(await signNodeCsr(ca, 'x'.repeat(20_000), { nodeName: 'worker-1' })).toMatchObject({ ok: false, error: { reason: 'invalid-csr' } });
    // Flip the last byte of the DER: it is inside the signature's s integer, so the CSR still
    // parses but its signature no longer verifies.
    const { csrPem: good } = await nodeCsr([{ CN: ['worker-1'] }]);
    const der = Buffer.from(good.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der.writeUInt8(der.readUInt8(der.length - 1) ^ 0x01, der.length - 1);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----`;
    expect(await signNodeCsr(ca, tampered, { nodeName: 'worker-1' })).toMatchObject({ ok: false, error: { reason: 'csr-signature' } });
    const { csrPem } = await nodeCsr([{ CN: ['Worker_1'] }]);
    expect(await signNodeCsr(ca, csrPem, { nodeName: 'Worker_1' })).toMatchObject({ ok: false, error: { reason: 'invalid-node-name' } });
  });

  test('no certificate outlives the CA', async () => {
    const shortCa = await createCA({ validityDays: 10 });
    const { csrPem } = await nodeCsr([{ CN: ['n'] }]);
    const r = await signNodeCsr(shortCa, csrPem, { nodeName: 'n' });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.notAfter.getTime()).toBe(shortCa.cert.notAfter.getTime());
  });

  test('node names: DNS subdomains only', () => {
    expect(isNodeName('worker-1.example.com')).toBe(true);
    for (const bad of ['', 'A', '-a', 'a-', 'a_b', 'a b', 'a'.repeat(254), 'x\nO=spiderpool-ts:nodes']) expect(isNodeName(bad)).toBe(false);
  });
});
