import pino, { type Logger } from 'pino';

/**
 * Paths that may hold credentials anywhere in a log object. Warden's own
 * request lines carry none, but anything logged with headers or config gets
 * these censored rather than trusting every call site.
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

export function createLogger(opts: LoggerOptions): Logger {
  const options = {
    level: opts.level,
    base: { service: 'warden' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  // Async stdout: a log line never waits on the terminal or pipe; flushed on shutdown.
  const dest = opts.destination ?? pino.destination({ fd: 1, sync: false });
  return pino(options, dest);
}

export type { Logger };
