// Minimal structured logger: one JSON object per line on stderr (stdout is reserved for the
// summary). Deliberately tiny so the lead can swap in winston without touching call sites:
// `log.info(msg, fields)` / `log.child(fields)`.
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

let threshold: number = ORDER[(process.env.NODESIM_LOG_LEVEL as Level | undefined) ?? 'info'] ?? ORDER.info;

export function setLogLevel(level: Level): void {
  threshold = ORDER[level];
}

function errorFields(v: unknown): unknown {
  if (v instanceof Error) return { name: v.name, message: v.message, stack: v.stack };
  return v;
}

function write(level: Level, base: Fields, msg: string, fields?: Fields): void {
  if (ORDER[level] < threshold) return;
  const rec: Fields = { ts: new Date().toISOString(), level, msg, ...base };
  if (fields) for (const [k, v] of Object.entries(fields)) rec[k] = errorFields(v);
  process.stderr.write(JSON.stringify(rec) + '\n');
}

export function makeLogger(base: Fields = {}): Logger {
  return {
    debug: (m, f) => write('debug', base, m, f),
    info: (m, f) => write('info', base, m, f),
    warn: (m, f) => write('warn', base, m, f),
    error: (m, f) => write('error', base, m, f),
    child: (f) => makeLogger({ ...base, ...f }),
  };
}

export const log: Logger = makeLogger({ component: 'nodesim' });
