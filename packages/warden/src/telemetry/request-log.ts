import type { DestinationStream, Logger } from 'pino';
import type { EventJson } from '../events/index.js';

/** Longest a request's log line waits in memory before it is written. */
const FLUSH_MS = 10;
/** Write at once past this many characters buffered. */
const FLUSH_CHARS = 64 * 1024;

/**
 * The one log line per request: the event's non-null fields in pino's line
 * format (level label, ISO time, service, the fields, msg), on the same
 * destination as the logger. The line reuses the event's JSON text (built
 * once per request, see events/json.ts) instead of pino's per-field
 * serialiser and redaction pass; the event holds no credentials by
 * construction. Lines are gathered and written every 10 ms (or 64 KiB), one
 * write for many requests rather than one per request; flush() writes what
 * is pending (shutdown).
 */
export class RequestLog {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private lastMs = 0;
  private lastIso = '';

  constructor(
    private readonly logger: Logger,
    private readonly dest: DestinationStream,
  ) {}

  /** Whether request lines are written at all (log level info or finer). */
  get enabled(): boolean {
    return this.logger.isLevelEnabled('info');
  }

  write(event: EventJson): void {
    if (!this.enabled) return;
    this.pending += `{"level":"info","time":"${this.isoNow()}","service":"warden",${event.slice(1, -1)},"msg":"request"}\n`;
    if (this.pending.length >= FLUSH_CHARS) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.pending) return;
    const text = this.pending;
    this.pending = '';
    this.dest.write(text);
  }

  /** ISO time, formatted at most once per millisecond. */
  private isoNow(): string {
    const now = Date.now();
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.lastIso = new Date(now).toISOString();
    }
    return this.lastIso;
  }
}
