// The result shape every parser returns, and the one error type that names what was wrong. Spiderpool
// wraps Go's json error ("invalid format of Pod annotation ...: json: cannot unmarshal ...") which
// tells a user neither the expected form nor an example; ours always says both.

export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export interface AnnotationError {
  /** The annotation key, e.g. `ipam.spidernet.io/ippool-ip-number`. */
  annotation: string;
  /** The offending value, truncated to MAX_SHOWN_VALUE characters. */
  value: string;
  /** What exactly is wrong, when more precise than "does not match the form". */
  reason?: string;
  /** The expected form with an example. */
  expected: string;
  /** One line for users: annotation, value, reason, expected form. */
  message: string;
}

export type AnnotationResult<T> = Result<T, AnnotationError>;

export const MAX_SHOWN_VALUE = 120;

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** Long values (a pasted manifest) would drown the message; keep the head, say how much was cut. */
export function truncateValue(value: string): string {
  if (value.length <= MAX_SHOWN_VALUE) return value;
  return `${value.slice(0, MAX_SHOWN_VALUE)}…(${value.length - MAX_SHOWN_VALUE} more chars)`;
}

export function annotationError(
  annotation: string,
  rawValue: string,
  expected: string,
  reason?: string,
): { ok: false; error: AnnotationError } {
  const value = truncateValue(rawValue);
  const detail = reason === undefined ? '' : `${reason}; `;
  const message = `annotation ${annotation}=${JSON.stringify(value)} is invalid: ${detail}expected ${expected}`;
  const error: AnnotationError = { annotation, value, expected, message };
  if (reason !== undefined) error.reason = reason;
  return { ok: false, error };
}
