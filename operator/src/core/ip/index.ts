export { IPParseError } from './errors.js';
export {
  type IP,
  type IPFamily,
  type ParseOptions,
  canonicalIP,
  familyBits,
  formatIP,
  guessFamily,
  maxValue,
  parseIP,
} from './address.js';
export { type CIDR, cidrRange, formatCIDR, parseCIDR } from './cidr.js';
export { type IPEntry, type IPRange, formatRange, parseIPEntry } from './range.js';
export { IPSet, findRange } from './ip-set.js';
