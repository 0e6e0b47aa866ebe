/**
 * One entry of Spiderpool's `spec.ips` / `spec.excludeIPs`: a single IP, an inclusive `a-b` range, or a
 * CIDR block. Every entry becomes an inclusive [start, end] range of integers.
 */
import { type IPFamily, type ParseOptions, familyName, formatIP, guessFamily, parseIP } from './address.js';
import { cidrRange, parseCIDR } from './cidr.js';
import { IPParseError } from './errors.js';

/** Inclusive on both ends; start <= end always. */
export interface IPRange {
  readonly start: bigint;
  readonly end: bigint;
}

export interface IPEntry {
  readonly family: IPFamily;
  readonly range: IPRange;
}

export function parseIPEntry(text: string, opts: ParseOptions = {}): IPEntry {
  if (text.includes('/')) {
    const c = parseCIDR(text, opts);
    return { family: c.family, range: cidrRange(c) };
  }
  const dash = text.indexOf('-');
  if (dash === -1) {
    const ip = parseIP(text, opts);
    return { family: ip.family, range: { start: ip.value, end: ip.value } };
  }
  const fail = (reason: string, expected: string, family = opts.family): never => {
    throw new IPParseError(`${familyName(family)} range`, text, reason, expected, opts.field);
  };
  const [startText, endText] = [text.slice(0, dash), text.slice(dash + 1)];
  const family = opts.family ?? guessFamily(startText);
  const endpoint = (which: string, part: string): bigint => {
    try {
      return parseIP(part, { family }).value;
    } catch (e) {
      if (!(e instanceof IPParseError)) throw e;
      if (opts.family === undefined && guessFamily(part) !== family) {
        return fail('start and end are different IP families', '"a-b" with a and b of one family');
      }
      return fail(`${which} ${JSON.stringify(part)}: ${e.reason}`, `"a-b" where a and b are ${familyName(family)} addresses`, family);
    }
  };
  const start = endpoint('start', startText);
  const end = endpoint('end', endText);
  if (start > end) fail('start is after end', '"a-b" with a <= b', family);
  return { family, range: { start, end } };
}

/** Shortest Spiderpool-style text for a range: "a" when it is one address, otherwise "a-b". */
export function formatRange(family: IPFamily, r: IPRange): string {
  const start = formatIP(family, r.start);
  return r.start === r.end ? start : `${start}-${formatIP(family, r.end)}`;
}
