// The server's log: pino, through Fastify (structured JSON lines with a level, a time and, for
// anything a request did, its request id). Parts that run outside a request (the store, the
// live feed, a sync socket) take the same logger, or a child of it naming what they are.
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';

/** What the server's parts log with: pino's calls, an object of fields first, then the message. */
export type Log = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error' | 'debug'>;

/**
 * The process's logger: JSON lines on stderr (stdout carries only the start-up lines people and
 * tools read: `framewise: app on …`), at FRAMEWISE_LOG_LEVEL (default info).
 */
export function processLogger(level = process.env.FRAMEWISE_LOG_LEVEL ?? 'info'): pino.Logger {
  if (!(level in pino.levels.values) && level !== 'silent') throw new Error(`FRAMEWISE_LOG_LEVEL must be one of ${[...Object.keys(pino.levels.values), 'silent'].join(', ')}, got "${level}"`);
  // Written asynchronously: a log reader that falls behind (a full pipe) must never stall the
  // server's event loop, and with it every socket. main.ts flushes it before the process exits.
  return pino({ level, base: { service: 'framewise' } }, pino.destination({ dest: 2, sync: false }));
}

/**
 * A logger from what a caller gives: a pino-style logger as it is, or a function that takes one
 * line per entry (tests and tools that only count or silence lines); none: silent.
 */
export function asLog(given: Log | ((line: string) => void) | undefined): Log {
  if (given === undefined) return pino({ level: 'silent' });
  if (typeof given !== 'function') return given;
  const line = given;
  const write = (level: string) => (a: unknown, b?: unknown) => line(typeof a === 'string' ? `${level}: ${a}` : `${level}: ${String(b ?? '')} ${JSON.stringify(a)}`);
  return { info: write('info'), warn: write('warn'), error: write('error'), debug: () => {} } as unknown as Log;
}
