// Fuzzing the shim's whole input surface in-process (run(): stdin network config, CNI_* env,
// CNI_ARGS, versions, prevResult) against a real gRPC server over TLS on 127.0.0.1.
//
// Property, for every one of FUZZ_RUNS cases: run() resolves (never throws, never hangs) with either
// exit 0 and a well-formed answer for the command, or exit 1 and one well-formed CNI error JSON
// ({cniVersion, code, msg}) that is not our "internal error" fallback (that fallback is what an
// unexpected exception — a crash in a real process — turns into).
//
// Inputs that reach outside the test are drawn from curated sets only: the operator endpoint is the
// stub, a closed port on 127.0.0.1, or a string the endpoint parser rejects (a random host name would
// send DNS traffic); TLS and log paths are files under the test's own directory (a random path could
// be /dev/zero, or write a log file anywhere).
import fc from 'fast-check';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '../src/log.js';
import { run } from '../src/plugin.js';
import { cniEnv, closedPort, netConf, POD } from './support/cni.js';
import { startOperatorStub, type OperatorStub } from './support/operator-stub.js';
import { makePki, type Pki } from './support/pki.js';

const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const CASE_TIMEOUT_MS = 10_000;

let pki: Pki;
let stub: OperatorStub;
let closed: string;

beforeAll(async () => {
  pki = makePki('node-1');
  mkdirSync(join(pki.dir, 'fuzz'), { recursive: true });
  writeFileSync(join(pki.dir, 'fuzz', 'empty'), '');
  writeFileSync(join(pki.dir, 'fuzz', 'garbage.pem'), '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
  closed = `127.0.0.1:${await closedPort()}`;
  stub = await startOperatorStub(pki, {
    allocate: (_c, cb) => cb(null, { ips: [{ version: 4, address: '198.18.40.10/24', gateway: '198.18.40.1', pool: 'fuzz-v4', vlan: 0 }], routes: [{ dst: '0.0.0.0/0', gw: '198.18.40.1' }], dns: undefined }),
    release: (_c, cb) => cb(null, { released: [] }),
    check: (_c, cb) => cb(null, { ips: [{ version: 4, address: '198.18.40.10/24', gateway: '198.18.40.1', pool: 'fuzz-v4', vlan: 0 }] }),
    gC: (_c, cb) => cb(null, { released: [] }),
    status: (_c, cb) => cb(null, { ready: true, message: '' }),
  });
});
afterAll(async () => {
  await stub.close();
  rmSync(pki.dir, { recursive: true, force: true });
});

const VERSIONS = ['0.3.1', '0.4.0', '1.0.0', '1.1.0'];
const COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS'];

/** Any JSON value, biased toward the small and the awkward. */
const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, '', 0, -1, 1e309 as unknown as number, [], {}, ' ', '\u0000', 'a'.repeat(300)));
const weirdString = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', ' ', ';', '=', '\n', '..', 'ADD', '-x', 'a'.repeat(300)));

/** Usually the valid value, sometimes a mutation: so that many cases stay valid enough to reach the RPC. */
const mostly = <T, U>(valid: T, mutated: fc.Arbitrary<U>): fc.Arbitrary<T | U> => fc.oneof({ arbitrary: fc.constant(valid), weight: 7 }, { arbitrary: mutated, weight: 1 });

const endpoint = mostly(
  'stub',
  fc.oneof(fc.constant('closed'), fc.constantFrom('', 'no-port', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:99999', '[::1', ':80', 'http://127.0.0.1:1', '127.0.0.1: 1', 'a b:1')),
);
const pathIn = (kind: 'ca' | 'cert' | 'key' | 'log') =>
  mostly<string, string | number | null | undefined>(
    kind,
    fc.constantFrom<string | number | null | undefined>('missing',
    'empty',
    'garbage',
    'dir',
    '',
    42,
    null,
    undefined,
  ));

interface Case {
  stdin: string;
  env: Record<string, string | undefined>;
}

// Valid-looking config mutated field by field (reaches deep: RPCs, results, prevResult), plus
// truncated and random stdin (reaches the parser's edges).
const structured = fc
  .record({
    command: fc.oneof({ arbitrary: fc.constantFrom(...COMMANDS), weight: 8 }, { arbitrary: weirdString, weight: 1 }),
    version: fc.oneof({ arbitrary: fc.constantFrom(...VERSIONS), weight: 6 }, { arbitrary: anyJson, weight: 1 }),
    endpoint,
    ca: pathIn('ca'),
    cert: pathIn('cert'),
    key: pathIn('key'),
    log: pathIn('log'),
    ipamPatch: mostly({}, fc.dictionary(fc.constantFrom('node_name', 'default_ipv4_ippool', 'default_ipv6_ippool', 'timeout_ms', 'log_level', 'cleangateway', 'type', 'tls_server_name', 'unknown_key'), anyJson, { maxKeys: 3 })),
    dropIpamKeys: mostly([] as string[], fc.subarray(['operator_endpoint', 'node_name', 'tls_ca_file', 'tls_cert_file', 'tls_key_file', 'type'])),
    topPatch: mostly({}, fc.dictionary(fc.constantFrom('name', 'type', 'ipam', 'runtimeConfig', 'args', 'extra'), anyJson, { maxKeys: 2 })),
    prevResult: fc.oneof(
      fc.constant(undefined),
      fc.constant(undefined),
      fc.constant({ ips: [{ address: '198.18.40.10/24' }] }),
      fc.record({ ips: fc.array(fc.record({ address: fc.oneof(weirdString, fc.constantFrom('198.18.40.10/24', '2001:db8::1/64', '198.18.40.10', '300.1.1.1/24')) }), { maxLength: 3 }) }),
      anyJson,
    ),
    validAttachments: fc.oneof(fc.constant(undefined), fc.constant(undefined), anyJson, fc.array(fc.record({ containerID: weirdString, ifname: weirdString }), { maxLength: 3 })),
    envPatch: mostly({}, fc.dictionary(fc.constantFrom('CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH', 'CNI_ARGS'), fc.oneof(weirdString, fc.constant(undefined)), { maxKeys: 2 })),
    cniArgs: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 6 },
      { arbitrary: fc.array(fc.tuple(fc.constantFrom('K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'K8S_POD_UID', 'K8S_POD_INFRA_CONTAINER_ID', 'IgnoreUnknown', 'Other'), weirdString), { maxLength: 5 }).map((kv) => kv.map(([k, v]) => `${k}=${v}`).join(';')), weight: 1 },
      { arbitrary: weirdString, weight: 1 },
    ),
  })
  .map((r): Case => {
    const file = (v: string | number | null | undefined, own: string): unknown => {
      if (typeof v !== 'string') return v;
      const fuzzDir = join(pki.dir, 'fuzz');
      return { ca: pki.caFile, cert: pki.clientCertFile, key: pki.clientKeyFile, log: join(pki.dir, 'log', 'fuzz.log'), missing: join(fuzzDir, `no-such-${own}`), empty: join(fuzzDir, 'empty'), garbage: join(fuzzDir, 'garbage.pem'), dir: fuzzDir, '': '' }[v];
    };
    const conf = JSON.parse(netConf(stub.endpoint, pki)) as Record<string, unknown> & { ipam: Record<string, unknown> };
    conf.cniVersion = r.version;
    conf.ipam.operator_endpoint = r.endpoint === 'stub' ? stub.endpoint : r.endpoint === 'closed' ? closed : r.endpoint;
    conf.ipam.tls_ca_file = file(r.ca, 'ca');
    conf.ipam.tls_cert_file = file(r.cert, 'cert');
    conf.ipam.tls_key_file = file(r.key, 'key');
    conf.ipam.log_file_path = file(r.log, 'log');
    Object.assign(conf.ipam, r.ipamPatch);
    for (const k of r.dropIpamKeys) delete conf.ipam[k];
    // A patched "ipam" replaces the whole object: it may be anything.
    Object.assign(conf, r.topPatch);
    if (r.prevResult !== undefined) conf.prevResult = r.prevResult;
    if (r.validAttachments !== undefined) conf['cni.dev/valid-attachments'] = r.validAttachments;
    const env = cniEnv(r.command, r.envPatch);
    if (r.cniArgs !== undefined) env.CNI_ARGS = r.cniArgs;
    return { stdin: JSON.stringify(conf), env };
  });

const unstructured = fc
  .record({ command: fc.constantFrom(...COMMANDS), text: fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(j))), cut: fc.nat() })
  .map((r): Case => {
    // Half the time: a valid config cut short (a runtime that died mid-write).
    const valid = netConf(stub.endpoint, pki);
    const stdin = r.cut % 2 === 0 ? r.text : valid.slice(0, r.cut % valid.length);
    return { stdin, env: cniEnv(r.command) };
  });

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`hang: ${what}`)), CASE_TIMEOUT_MS)))]).finally(() => clearTimeout(timer));
}

/** The outcome is well-formed; returns a tag for the tally. */
function checkOutcome(c: Case, out: { stdout: string; exitCode: number }): string {
  const command = c.env.CNI_COMMAND;
  if (out.exitCode === 0) {
    if (command === 'VERSION') {
      const v = JSON.parse(out.stdout) as { cniVersion?: unknown; supportedVersions?: unknown };
      expect(Array.isArray(v.supportedVersions)).toBe(true);
      return 'ok VERSION';
    }
    if (command === 'ADD') {
      const r = JSON.parse(out.stdout) as { cniVersion?: unknown; ips?: unknown };
      expect(VERSIONS).toContain(r.cniVersion);
      expect(Array.isArray(r.ips) && r.ips.length > 0).toBe(true);
      return 'ok ADD';
    }
    // DEL, CHECK, GC, STATUS print nothing on success.
    expect(out.stdout).toBe('');
    return `ok ${command}`;
  }
  expect(out.exitCode).toBe(1);
  const e = JSON.parse(out.stdout) as { cniVersion?: unknown; code?: unknown; msg?: unknown };
  expect(typeof e.cniVersion).toBe('string');
  expect(Number.isInteger(e.code) && (e.code as number) >= 1).toBe(true);
  expect(typeof e.msg === 'string' && e.msg.length > 0).toBe(true);
  // The catch-all for unexpected exceptions: a fuzz finding, not a handled error.
  expect(String(e.msg)).not.toMatch(/^internal error/);
  return `error ${String(e.code)}`;
}

test(`fuzz: ${FUZZ_RUNS} mutated CNI invocations always end in a valid result or a well-formed CNI error`, async () => {
  const tally = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(fc.oneof({ arbitrary: structured, weight: 4 }, { arbitrary: unstructured, weight: 1 }), async (c) => {
      const out = await withTimeout(run(c.env, c.stdin, new Logger(false)), `${c.env.CNI_COMMAND} ${c.stdin.slice(0, 200)}`);
      const tag = checkOutcome(c, out);
      tally.set(tag, (tally.get(tag) ?? 0) + 1);
    }),
    { numRuns: FUZZ_RUNS, seed: Number(process.env.FUZZ_SEED ?? 20261121), endOnFailure: true },
  );
  // The fuzzer must reach past the parsers: real RPCs answered, for several commands.
  const ok = (cmd: string) => tally.get(`ok ${cmd}`) ?? 0;
  expect(ok('ADD')).toBeGreaterThan(FUZZ_RUNS / 200);
  expect(ok('DEL') + ok('CHECK') + ok('GC') + ok('STATUS')).toBeGreaterThan(FUZZ_RUNS / 200);
  process.stderr.write(`shim fuzz tally (${POD.namespace}): ${JSON.stringify(Object.fromEntries([...tally].sort()))}\n`);
});
