// Light syntactic checks for annotation validation only. Real parsing and canonical formatting live
// in core/ip; the annotation layer just needs "is this an address / a CIDR, and of which family".

import { isIP } from 'node:net';

/** 4, 6, or 0 when `s` is not an IP address. */
export function ipFamilyOf(s: string): 0 | 4 | 6 {
  return isIP(s) as 0 | 4 | 6;
}

/** 4 or 6 for `addr/prefix` with a prefix in range for the family, 0 otherwise. */
export function cidrFamilyOf(s: string): 0 | 4 | 6 {
  const slash = s.indexOf('/');
  if (slash < 0) return 0;
  const family = ipFamilyOf(s.slice(0, slash));
  const prefix = s.slice(slash + 1);
  if (family === 0 || !/^[0-9]{1,3}$/.test(prefix)) return 0;
  return Number(prefix) <= (family === 4 ? 32 : 128) ? family : 0;
}
