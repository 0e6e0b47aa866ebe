/**
 * Single addresses: parse strictly, format canonically. Values are `bigint` for both families so every
 * layer above (ranges, sets, offsets) has one code path; IPv4 is parsed through a `number` fast path
 * because it is on the allocator's hot path (release by IP string).
 */
import { IPParseError } from './errors.js';

export type IPFamily = 4 | 6;

export interface IP {
  readonly family: IPFamily;
  readonly value: bigint;
}

export interface ParseOptions {
  /** Require this family; the other one is rejected with a message saying which it was. */
  readonly family?: IPFamily | undefined;
  /** Field path for error messages, e.g. `spec.gateway`. */
  readonly field?: string | undefined;
}

export const familyBits = (family: IPFamily): number => (family === 4 ? 32 : 128);

export const maxValue = (family: IPFamily): bigint => (family === 4 ? 0xffff_ffffn : (1n << 128n) - 1n);

export const familyName = (family: IPFamily | undefined): string =>
  family === undefined ? 'IP' : `IPv${family}`;

/** The "expected ..." clause of an address error. */
function expectedAddress(family: IPFamily | undefined): string {
  if (family === 4) return 'an IPv4 address like "192.0.2.10"';
  if (family === 6) return 'an IPv6 address like "2001:db8::10"';
  return 'an IPv4 address like "192.0.2.10" or an IPv6 address like "2001:db8::10"';
}

/** Family by syntax alone: a colon can only mean IPv6. */
export const guessFamily = (text: string): IPFamily => (text.includes(':') ? 6 : 4);

/** ::ffff:0:0/96. Go (and so Spiderpool) silently turns these into IPv4; we make the user choose. */
const V4_MAPPED_PREFIX = 0xffffn;

export function parseIP(text: string, opts: ParseOptions = {}): IP {
  const family = guessFamily(text);
  const fail = (reason: string): never => {
    throw new IPParseError(`${familyName(opts.family)} address`, text, reason, expectedAddress(opts.family), opts.field);
  };
  const parsed = family === 4 ? parseV4(text) : parseV6(text);
  if (typeof parsed === 'string') return fail(parsed);
  if (family === 6 && parsed >> 32n === V4_MAPPED_PREFIX) {
    const v4 = formatIP(4, parsed & 0xffff_ffffn);
    return fail(`it is an IPv4-mapped IPv6 address, which is ambiguous (write "${v4}" in an IPv4 pool)`);
  }
  if (opts.family !== undefined && opts.family !== family) fail(`it is an IPv${family} address`);
  return { family, value: parsed };
}

/** IPv4 as a number, or the reason it is not one. Decimal only, no leading zeros (Go rejects them too). */
function parseV4(text: string): bigint | string {
  const n = parseV4Number(text);
  return typeof n === 'string' ? n : BigInt(n);
}

function parseV4Number(text: string): number | string {
  let value = 0;
  let octets = 0;
  let digits = 0;
  let octet = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; /* '.' terminates the last octet */
    if (c === 46) {
      if (digits === 0) return 'an octet is empty';
      value = value * 256 + octet;
      octets++;
      digits = 0;
      octet = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return 'octets must not have leading zeros';
      octet = octet * 10 + (c - 48);
      if (octet > 255) return 'an octet is greater than 255';
      digits++;
    } else {
      return `unexpected character ${JSON.stringify(text[i])}`;
    }
  }
  if (octets !== 4) return `it has ${octets} octets, not 4`;
  return value;
}

/**
 * IPv6 as a bigint, or the reason it is not one. One pass over the characters (this is on the release
 * path of IPv6 pools): groups of 1-4 hex digits, at most one "::" standing for one or more zero groups,
 * and an optional dotted IPv4 tail.
 */
function parseV6(text: string): bigint | string {
  if (text.includes('%')) return 'zone identifiers ("%eth0") are not allowed';
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  if (text.startsWith('::')) {
    gap = 0;
    i = 2;
  } else if (text.charCodeAt(0) === 58 /* : */) {
    return 'it starts with a single ":"';
  }
  while (i < text.length) {
    const start = i;
    let group = 0;
    for (let h = hexValue(text.charCodeAt(i)); h >= 0; h = hexValue(text.charCodeAt(++i))) group = group * 16 + h;
    if (text.charCodeAt(i) === 46 /* . */) {
      const v4 = parseV4Number(text.slice(start));
      if (typeof v4 === 'string') return `embedded IPv4 address ${JSON.stringify(text.slice(start))}: ${v4}`;
      groups.push(Math.floor(v4 / 65536), v4 % 65536);
      break;
    }
    if (i === start) return text.charCodeAt(i) === 58 ? '":::" is not allowed' : `unexpected character ${JSON.stringify(text[i])}`;
    if (i - start > 4) return `group ${JSON.stringify(text.slice(start, i))} has more than 4 hex digits`;
    groups.push(group);
    if (i === text.length) break;
    if (text.charCodeAt(i) !== 58) return `unexpected character ${JSON.stringify(text[i])}`;
    i++;
    if (text.charCodeAt(i) === 58) {
      if (gap !== -1) return '"::" may appear only once';
      gap = groups.length;
      i++;
    } else if (i === text.length) {
      return 'it ends with a single ":"';
    }
  }
  if (gap === -1 && groups.length !== 8) return `it has ${groups.length} groups, not 8`;
  if (gap !== -1 && groups.length > 7) return '"::" must stand for at least one group';
  if (gap !== -1) groups.splice(gap, 0, ...new Array<number>(8 - groups.length).fill(0));
  let value = 0n;
  for (let w = 0; w < 8; w += 2) value = (value << 32n) | BigInt(groups[w]! * 65536 + groups[w + 1]!);
  return value;
}

/** 0-15 for a hex digit's char code, -1 otherwise (NaN past the end included). */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Canonical text: dotted quad for IPv4, RFC 5952 for IPv6. */
export function formatIP(family: IPFamily, value: bigint): string {
  if (family === 4) {
    const n = Number(value);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const groups: number[] = new Array<number>(8);
  for (let w = 0; w < 4; w++) {
    const word = Number((value >> BigInt(96 - 32 * w)) & 0xffff_ffffn);
    groups[2 * w] = word >>> 16;
    groups[2 * w + 1] = word & 0xffff;
  }
  // RFC 5952 §4.2: compress the longest run of two or more zero groups, the leftmost one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (i > 0 && i !== bestStart + bestLen) out += ':';
    out += groups[i]!.toString(16);
  }
  return out;
}

/** Parse then format: the one canonical spelling of an address. */
export const canonicalIP = (text: string, opts: ParseOptions = {}): string => {
  const ip = parseIP(text, opts);
  return formatIP(ip.family, ip.value);
};
