// CNI spec versions this plugin speaks. 0.3.0 is left out on purpose: it differs from 0.3.1 only in
// wording, and runtimes that still send it are long gone; keeping the list to what we test.
import { CniCode, CniError } from './errors.js';

export const SUPPORTED_VERSIONS = ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const LATEST_VERSION: CniVersion = '1.1.0';

export function isSupported(v: string): v is CniVersion {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

/** a >= b for dotted versions of supported form. */
export function atLeast(a: CniVersion, b: CniVersion): boolean {
  return SUPPORTED_VERSIONS.indexOf(a) >= SUPPORTED_VERSIONS.indexOf(b);
}

/** The command needs a newer spec than the config declares (CHECK: 0.4.0, GC/STATUS: 1.1.0). */
export function requireVersion(have: CniVersion, need: CniVersion, command: string): void {
  if (!atLeast(have, need)) {
    throw new CniError(
      CniCode.IncompatibleVersion,
      `cniVersion: ${command} needs cniVersion ${need} or later, the network config declares ${have}`,
    );
  }
}
