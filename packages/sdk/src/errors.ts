/**
 * What the SDK reports through `onError`: something was not delivered and
 * will not be retried, or the spool could not be used. Transient failures
 * (a lost connection, a 503) are retried and spooled, not reported.
 */

export type SdkErrorCode =
  /**
   * Warden refused a request (400/401/403/404/409/422…); `serverCode` says
   * why. A spooled request refused so is kept on disk (401, 403, a 404 that
   * is not `run_not_found`) or moved aside as `*.rejected` (the rest); the
   * message says which.
   */
  | 'refused'
  /** One event is larger than the server's body limit on its own (413 with nothing left to split). */
  | 'event_too_large'
  /** More than `maxQueuedEvents` waited in memory with no spool to take them (none, one that fails, or one that cannot keep up): new events were dropped. */
  | 'queue_full'
  /** The spool reached `maxSpoolBytes`: the batch could not be kept. */
  | 'spool_full'
  /** The spool directory could not be read or written. Reported once until a write succeeds again. */
  | 'spool_error'
  /** A spool file could not be parsed; it was renamed to `*.corrupt` and skipped. */
  | 'spool_corrupt'
  /** close() ended with events neither delivered nor spooled (Warden unreachable, and no spoolDir or one that failed). */
  | 'lost_at_close'
  /** An event's payload could not be serialised as JSON (a cycle, a BigInt). */
  | 'unserializable_event'
  /** An event was recorded after close(). */
  | 'closed';

export type Operation = 'create_run' | 'events' | 'finalize_run';

export class WardenSdkError extends Error {
  override readonly name = 'WardenSdkError';

  constructor(
    readonly code: SdkErrorCode,
    message: string,
    readonly details: {
      /** The HTTP status Warden answered, when it answered. */
      status?: number;
      /** The code in Warden's error envelope (`unauthorized`, `validation_failed`, …). */
      serverCode?: string;
      operation?: Operation;
      /** How many events this concerns. */
      events?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  get status(): number | undefined {
    return this.details.status;
  }

  get serverCode(): string | undefined {
    return this.details.serverCode;
  }
}
