// JSON lines on stderr and, when configured, appended to a log file. stdout is reserved for the CNI
// result. Writes are synchronous: the process exits right after its answer, and a buffered line
// would be lost.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LogLevel } from './cni/config.js';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export type Fields = Record<string, unknown>;

export class Logger {
  /** `toStderr: false` is for in-process tests, which read the log file instead. */
  constructor(private readonly toStderr = true) {}

  private fd: number | undefined;
  private minRank = RANK.info;
  private base: Fields = {};

  /** Adds the config's level and file; an unusable file is reported once and logging goes on to stderr. */
  configure(level: LogLevel, file: string): void {
    this.minRank = RANK[level];
    if (!file) return;
    try {
      mkdirSync(dirname(file), { recursive: true });
      this.fd = openSync(file, 'a', 0o640);
    } catch (e) {
      this.warn('cannot open the log file; logging to stderr only', { logFile: file, error: (e as Error).message });
    }
  }

  /** Fields added to every later line (command, container id, pod, request id). */
  with(fields: Fields): void {
    this.base = { ...this.base, ...fields };
  }

  debug(msg: string, fields?: Fields): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: Fields): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: Fields): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: Fields): void {
    this.write('error', msg, fields);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private write(level: LogLevel, msg: string, fields?: Fields): void {
    if (RANK[level] < this.minRank) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...this.base, ...fields }) + '\n';
    try {
      if (this.toStderr) writeSync(2, line);
      if (this.fd !== undefined) writeSync(this.fd, line);
    } catch {
      // A closed stderr or a full disk must not turn a good CNI answer into a failure.
    }
  }
}
