// CNI error result: printed as JSON on stdout with a non-zero exit status (CNI spec, "Error").
// Codes 1-99 are reserved by the spec; we use the ones below, 999 for everything else.
export const CniCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  ContainerUnknown: 3,
  InvalidEnv: 4,
  IOFailure: 5,
  DecodeFailure: 6,
  InvalidConfig: 7,
  TryAgainLater: 11,
  /** STATUS: the plugin cannot serve ADD now. */
  NotAvailable: 50,
  Other: 999,
} as const;

export class CniError extends Error {
  constructor(
    readonly code: number,
    msg: string,
    /** Longer explanation for logs and `details`, e.g. the operator's status message. */
    readonly details = '',
  ) {
    super(msg);
    this.name = 'CniError';
  }
}

export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export function errorJson(cniVersion: string, err: CniError): CniErrorJson {
  const out: CniErrorJson = { cniVersion, code: err.code, msg: err.message };
  if (err.details) out.details = err.details;
  return out;
}
