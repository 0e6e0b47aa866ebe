// Fuzzing every annotation parser users can feed (pod, namespace and workload annotations) with
// ≥ 10,000 seeded cases each: random text, random JSON, and valid annotations mutated one value at
// a time. Property: the parser returns (never throws) either a value or an error whose message names
// the annotation key and shows (a bounded prefix of) the value — what a user needs to fix it.
import fc from 'fast-check';
import {
  ANNO_POD_IPPOOL,
  ANNO_POD_IPPOOLS,
  ANNO_POD_ROUTES,
  ANNO_NS_DEFAULT_IPV4_IPPOOL,
  ANNO_NS_DEFAULT_IPV6_IPPOOL,
  ANNO_SUBNET,
  ANNO_SUBNETS,
  ANNO_IPPOOL_IP_NUMBER,
  ANNO_IPPOOL_RECLAIM,
  MAX_SHOWN_VALUE,
  parseNamespaceDefaultPools,
  parsePodIPPoolAnnotation,
  parsePodIPPoolsAnnotation,
  parsePoolIPNumberAnnotation,
  parseReclaimAnnotation,
  parseRoutesAnnotation,
  parseSubnetAnnotation,
  parseSubnetsAnnotation,
  type AnnotationResult,
} from '../../src/core/annotations/index.js';
import { mutateAt } from './mutate.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261121);

// Valid examples (Spiderpool's documented forms) that the structured fuzzer mutates.
const VALID: Record<string, unknown> = {
  [ANNO_POD_IPPOOL]: { interface: 'eth0', ipv4: ['pool-a', 'pool-*'], ipv6: ['pool6'], cleangateway: false },
  [ANNO_POD_IPPOOLS]: [{ interface: 'eth0', ipv4: ['a'], ipv6: ['b'], cleangateway: true }, { interface: 'net1', ipv4: ['c'] }],
  [ANNO_POD_ROUTES]: [{ dst: '198.18.0.0/16', gw: '198.18.1.1' }, { dst: '2001:db8::/32', gw: '2001:db8::1' }],
  [ANNO_SUBNET]: { interface: 'eth0', ipv4: ['subnet-a'], ipv6: ['subnet6'] },
  [ANNO_SUBNETS]: [{ interface: 'eth0', ipv4: ['subnet-a'] }, { interface: 'net1', ipv6: ['subnet6'] }],
  [ANNO_NS_DEFAULT_IPV4_IPPOOL]: ['ns-pool-a', 'ns-pool-b'],
  [ANNO_NS_DEFAULT_IPV6_IPPOOL]: ['ns-pool6'],
};

type Parser = (raw: string) => AnnotationResult<unknown>;
const PARSERS: Record<string, Parser> = {
  [ANNO_POD_IPPOOL]: parsePodIPPoolAnnotation,
  [ANNO_POD_IPPOOLS]: parsePodIPPoolsAnnotation,
  [ANNO_POD_ROUTES]: parseRoutesAnnotation,
  [ANNO_SUBNET]: parseSubnetAnnotation,
  [ANNO_SUBNETS]: parseSubnetsAnnotation,
  [ANNO_IPPOOL_IP_NUMBER]: parsePoolIPNumberAnnotation,
  [ANNO_IPPOOL_RECLAIM]: parseReclaimAnnotation,
  // The namespace parser takes the annotation map: fuzz each of its two keys.
  [ANNO_NS_DEFAULT_IPV4_IPPOOL]: (raw) => parseNamespaceDefaultPools({ [ANNO_NS_DEFAULT_IPV4_IPPOOL]: raw }),
  [ANNO_NS_DEFAULT_IPV6_IPPOOL]: (raw) => parseNamespaceDefaultPools({ [ANNO_NS_DEFAULT_IPV6_IPPOOL]: raw }),
};

const leaf = fc.oneof(
  fc.jsonValue({ maxDepth: 1 }),
  fc.constantFrom('', ' ', '*', 'eth0', '198.18.0.0/16', '198.18.1.1', '2001:db8::1', '300.0.0.1', '::', '10', '+2', '-1', 'true', 'a'.repeat(400), '\u0000', '\ud800'),
);

const input = (key: string): fc.Arbitrary<string> => {
  const random = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }), fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(j)));
  const valid = VALID[key];
  if (valid === undefined) return fc.oneof(random, fc.integer({ min: -5, max: 100_000 }).map((n) => (n % 3 === 0 ? `+${n}` : String(n))), fc.constantFrom('true', 'false', 'True', ''));
  const mutated = fc
    .record({ path: fc.array(fc.nat(), { minLength: 0, maxLength: 3 }), replacement: leaf, remove: fc.boolean(), extra: fc.option(fc.tuple(fc.string({ maxLength: 8 }), leaf)) })
    .map(({ path, replacement, remove, extra }) => {
      let v = mutateAt(valid, path, replacement, remove);
      if (extra && v !== null && typeof v === 'object' && !Array.isArray(v)) v = { ...v, [extra[0]]: extra[1] };
      return JSON.stringify(v);
    });
  const truncated = fc.nat().map((n) => JSON.stringify(valid).slice(0, n % (JSON.stringify(valid).length + 1)));
  return fc.oneof({ arbitrary: mutated, weight: 3 }, { arbitrary: random, weight: 2 }, { arbitrary: truncated, weight: 1 });
};

describe.each(Object.keys(PARSERS))('fuzz %s', (key) => {
  test(`${RUNS} cases: a value or an error naming the annotation, never a throw`, () => {
    const parse = PARSERS[key]!;
    let accepted = 0;
    fc.assert(
      fc.property(input(key), (raw) => {
        const r = parse(raw);
        if (r.ok) {
          accepted++;
          return;
        }
        expect(r.error.message).toContain(key);
        expect(r.error.annotation).toBe(key);
        // The shown value is bounded (a pasted manifest must not flood the event) and is the input's head.
        expect(r.error.value.length).toBeLessThanOrEqual(MAX_SHOWN_VALUE + 40);
        expect(raw.startsWith(r.error.value.slice(0, Math.min(MAX_SHOWN_VALUE, raw.length)))).toBe(true);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // Mutation keeps some inputs valid: the fuzzer also walks the accepting paths.
    if (VALID[key] !== undefined) expect(accepted).toBeGreaterThan(RUNS / 100);
  });
});
