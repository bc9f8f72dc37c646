import pino, { type DestinationStream, type Logger } from 'pino';
import { RequestLog } from './request-log.js';

/**
 * Paths that may hold credentials anywhere in a log object. Everything but
 * the per-request line goes through these, rather than trusting every call
 * site to leave secrets out.
 */
export const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '["x-api-key"]',
  '*["x-api-key"]',
  '*.headers["x-api-key"]',
  'api_key',
  '*.api_key',
  '*.apiKey',
  'key',
  '*.key',
  'password',
  '*.password',
  'token',
  '*.token',
];

export interface LoggerOptions {
  level: string;
  /** Write somewhere other than stdout (tests). */
  destination?: NodeJS.WritableStream;
}

export interface Loggers {
  /** General-purpose logger: start-up, errors, shutdown. Redacts REDACT_PATHS. */
  logger: Logger;
  /** The one-line-per-request log, on the same destination. */
  requestLog: RequestLog;
}

const base = {
  base: { service: 'warden' },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label: string) => ({ level: label }) },
};

export function createLoggers(opts: LoggerOptions): Loggers {
  // Async stdout: a log line never waits on the terminal or pipe; flushed on shutdown.
  const dest = (opts.destination ?? pino.destination({ fd: 1, sync: false })) as DestinationStream;
  const logger = pino({ ...base, level: opts.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, dest);
  return { logger, requestLog: new RequestLog(logger, dest) };
}

export type { Logger };
