import { Writable } from 'node:stream';
import { createLogger, objectLogger } from '../../src/framework/logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'debug', stream, defaultMeta: { component: 'test' } }) };
}

describe('logger', () => {
  test('one JSON line per event with level, timestamp and default fields', () => {
    const { lines, log } = capture();
    log.info('hello', { n: 1 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', message: 'hello', n: 1, component: 'test' });
    expect(typeof lines[0]?.timestamp).toBe('string');
  });

  test('an Error as the message or in metadata keeps its message and stack (format.json alone prints {})', () => {
    const { lines, log } = capture();
    log.error(new Error('boom'));
    const cause = new Error('root');
    log.warn('failed', { error: Object.assign(new Error('outer', { cause }), { code: 409 }) });
    expect(lines[0]).toMatchObject({ level: 'error', message: 'boom' });
    expect(String(lines[0]?.stack)).toContain('Error: boom');
    expect(lines[1]?.error).toMatchObject({ name: 'Error', message: 'outer', code: 409, cause: { message: 'root' } });
    expect(String((lines[1]?.error as { stack?: string }).stack)).toContain('outer');
  });

  test('objectLogger carries controller, namespace and name (cluster-scoped keys have no namespace)', () => {
    const { lines, log } = capture();
    objectLogger(log, 'pools', 'default/web').info('x');
    objectLogger(log, 'pools', 'cluster-pool').info('y');
    expect(lines[0]).toMatchObject({ controller: 'pools', namespace: 'default', name: 'web' });
    expect(lines[1]).toMatchObject({ controller: 'pools', name: 'cluster-pool' });
    expect(lines[1]).not.toHaveProperty('namespace');
  });
});
