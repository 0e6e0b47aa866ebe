// Structured JSON logs for the operator. One line per event, machine-parseable, with the context that
// lets an operator grep one object's history: {controller, namespace, name}.
import winston from 'winston';
import { splitKey } from './keys.js';

export type Logger = winston.Logger;

export interface LoggerOptions {
  /** default: $LOG_LEVEL or 'info' */
  level?: string;
  /** fields on every line (e.g. {component: 'operator', pod: $POD_NAME}) */
  defaultMeta?: Record<string, unknown>;
  /** default: stderr, so stdout stays free for tools that print results */
  stream?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return winston.createLogger({
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    defaultMeta: opts.defaultMeta,
    // format.json() alone serialises an Error as {} — errors({stack}) first keeps message and stack,
    // both for logger.error(err) and for {error: err} metadata (handled by errorFields below).
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      errorFields(),
      winston.format.timestamp(),
      winston.format.json(),
    ),
    transports: [new winston.transports.Stream({ stream: opts.stream ?? process.stderr })],
  });
}

/**
 * winston's errors() only unwraps an Error passed as the message; an Error in metadata
 * (`log.warn('x', {error})`) would still print as {}. Flatten those to {message, stack, code}.
 */
const errorFields = winston.format((info) => {
  for (const [k, v] of Object.entries(info)) {
    if (v instanceof Error) info[k] = describeError(v);
  }
  return info;
});

export function describeError(e: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: e.name, message: e.message };
  const code = (e as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (e.stack) out.stack = e.stack;
  if (e.cause instanceof Error) out.cause = describeError(e.cause);
  return out;
}

/** A child logger for one object under one controller: every line carries the three fields. */
export function objectLogger(log: Logger, controller: string, key: string): Logger {
  const { namespace, name } = splitKey(key);
  return log.child(namespace === undefined ? { controller, name } : { controller, namespace, name });
}
