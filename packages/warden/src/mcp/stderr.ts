import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

/** What the upstream layer logs through: a pino logger, or anything with its two methods. */
export interface McpLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Longer stderr lines are cut here (and marked `truncated`). */
export const MAX_STDERR_LINE = 2000;
/** Lines logged in a burst before the rate bound applies. */
export const STDERR_BURST = 100;
/** Lines a second, over a burst: a chatty or crash-looping server cannot flood Warden's logs. */
export const STDERR_PER_SECOND = 20;

/** Configured env values shorter than this are not scrubbed from stderr: "1" or "true" would blank out every line. */
const MIN_SECRET_LENGTH = 6;

/**
 * A stdio server's stderr in Warden's logs, one warn line per line the
 * process wrote: `{ mcp_server, stderr }`. Lines are cut at
 * MAX_STDERR_LINE, and a token bucket (shared by every process of one
 * server, so restarts do not refill it) bounds how many are logged; the
 * dropped ones are counted in a `stderr_dropped` line. The values of the
 * server's configured env are replaced by `[redacted]`: a server that
 * prints its own token must not put it in Warden's logs.
 */
export class StderrLog {
  #tokens = STDERR_BURST;
  #refilled: number;
  #dropped = 0;
  readonly #secrets: string[];

  constructor(
    private readonly server: string,
    private readonly log: McpLog,
    secrets: readonly string[],
    private readonly now: () => number = Date.now,
  ) {
    this.#refilled = now();
    // Longest first, so a value that contains another is replaced whole.
    this.#secrets = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH))].sort((a, b) => b.length - a.length);
  }

  /** Reads one process's stderr until it ends. */
  attach(stream: Readable): void {
    const decoder = new StringDecoder('utf8');
    const lines = new LineCutter((line, truncated) => this.line(line, truncated));
    stream.on('data', (chunk: Buffer | string) => lines.push(typeof chunk === 'string' ? chunk : decoder.write(chunk)));
    stream.on('end', () => {
      lines.push(decoder.end());
      lines.end();
      this.#reportDropped();
    });
    stream.on('error', () => {});
  }

  /** One complete line (already cut). */
  line(text: string, truncated = false): void {
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (!line.trim()) return;
    const now = this.now();
    this.#tokens = Math.min(STDERR_BURST, this.#tokens + ((now - this.#refilled) / 1000) * STDERR_PER_SECOND);
    this.#refilled = now;
    if (this.#tokens < 1) {
      this.#dropped++;
      return;
    }
    this.#tokens--;
    this.#reportDropped();
    this.log.warn({ mcp_server: this.server, stderr: this.#scrub(line, truncated), ...(truncated ? { truncated: true } : {}) }, 'MCP server stderr');
  }

  #reportDropped(): void {
    if (this.#dropped === 0) return;
    this.log.warn({ mcp_server: this.server, stderr_dropped: this.#dropped }, 'MCP server stderr lines dropped (too many)');
    this.#dropped = 0;
  }

  #scrub(line: string, truncated = false): string {
    let out = line;
    for (const s of this.#secrets) out = out.split(s).join('[redacted]');
    // A cut line may end in the first part of a secret: that part goes too.
    if (truncated) {
      for (const s of this.#secrets) {
        for (let k = s.length - 1; k >= 4; k--) {
          if (out.endsWith(s.slice(0, k))) {
            out = `${out.slice(0, out.length - k)}[redacted]`;
            break;
          }
        }
      }
    }
    return out;
  }
}

/** Splits text into lines, keeping at most MAX_STDERR_LINE characters of each, however long the line the process writes. */
export class LineCutter {
  #partial = '';
  /** The current line was already emitted cut: the rest of it is skipped. */
  #skipping = false;

  constructor(private readonly emit: (line: string, truncated: boolean) => void) {}

  push(text: string): void {
    const parts = text.split('\n');
    parts.forEach((part, i) => {
      if (!this.#skipping) {
        this.#partial += part.slice(0, MAX_STDERR_LINE + 1 - this.#partial.length);
        if (this.#partial.length > MAX_STDERR_LINE) {
          this.emit(this.#partial.slice(0, MAX_STDERR_LINE), true);
          this.#partial = '';
          this.#skipping = true;
        }
      }
      if (i < parts.length - 1) {
        if (!this.#skipping) this.emit(this.#partial, false);
        this.#partial = '';
        this.#skipping = false;
      }
    });
  }

  /** The last line, when the stream ended without a newline. */
  end(): void {
    if (this.#partial && !this.#skipping) this.emit(this.#partial, false);
    this.#partial = '';
    this.#skipping = false;
  }
}
