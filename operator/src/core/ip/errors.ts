/**
 * The one error every parser in this module throws. It carries the pieces a webhook or a CLI needs to
 * tell the user what to fix: which field, what they wrote, why it is wrong and what would be right.
 */
export class IPParseError extends Error {
  override readonly name = 'IPParseError';

  constructor(
    /** What was being parsed, e.g. `IPv4 range`, `IPv6 CIDR`, `IP address`. */
    readonly kind: string,
    /** The offending input, verbatim. */
    readonly value: string,
    /** Why it was rejected, e.g. `start is after end`. */
    readonly reason: string,
    /** The accepted form, e.g. `"a-b" with a <= b`. */
    readonly expected: string,
    /** Field path the value came from (`spec.ips`), when the caller said. */
    readonly field?: string,
  ) {
    super(`invalid ${kind} ${JSON.stringify(value)}${field ? ` in ${field}` : ''}: ${reason}; expected ${expected}`);
  }
}
