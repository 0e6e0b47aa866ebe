/**
 * CIDR blocks. Spiderpool's `spec.subnet` is a network, so a block with host bits set is an error that
 * names the network the user probably meant, rather than a silent mask.
 */
import { type IPFamily, type ParseOptions, familyBits, familyName, formatIP, guessFamily, parseIP } from './address.js';
import { IPParseError } from './errors.js';
import type { IPRange } from './range.js';

export interface CIDR {
  readonly family: IPFamily;
  /** The network address (host bits all zero). */
  readonly network: bigint;
  readonly prefix: number;
}

const expectedCIDR = (family: IPFamily | undefined): string =>
  family === 6
    ? 'an IPv6 network like "2001:db8::/64"'
    : family === 4
      ? 'an IPv4 network like "192.0.2.0/24"'
      : 'a network like "192.0.2.0/24" or "2001:db8::/64"';

export function parseCIDR(text: string, opts: ParseOptions = {}): CIDR {
  const fail = (reason: string): never => {
    throw new IPParseError(`${familyName(opts.family)} CIDR`, text, reason, expectedCIDR(opts.family), opts.field);
  };
  const slash = text.indexOf('/');
  if (slash === -1) return fail('the "/prefix" part is missing');
  const addrText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const family = guessFamily(addrText);
  const bits = familyBits(family);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > bits) {
    return fail(`prefix length ${JSON.stringify(prefixText)} is not a number from 0 to ${bits}`);
  }
  let network: bigint;
  try {
    network = parseIP(addrText, { family: opts.family }).value;
  } catch (e) {
    if (e instanceof IPParseError) return fail(`address ${JSON.stringify(addrText)}: ${e.reason}`);
    throw e;
  }
  const prefix = Number(prefixText);
  const cidr: CIDR = { family, network: network & networkMask(family, prefix), prefix };
  if (cidr.network !== network) fail(`host bits are set (the network is "${formatCIDR(cidr)}")`);
  return cidr;
}

export function networkMask(family: IPFamily, prefix: number): bigint {
  const bits = BigInt(familyBits(family));
  return ((1n << BigInt(prefix)) - 1n) << (bits - BigInt(prefix));
}

export const formatCIDR = (c: CIDR): string => `${formatIP(c.family, c.network)}/${c.prefix}`;

/** Every address of the block, network and broadcast included (Spiderpool does not exclude them). */
export function cidrRange(c: CIDR): IPRange {
  const size = 1n << BigInt(familyBits(c.family) - c.prefix);
  return { start: c.network, end: c.network + size - 1n };
}
