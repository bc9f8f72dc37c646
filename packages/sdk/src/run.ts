import type { Actor, EventType, FinalStatus, TraceEvent, Usage, WardenRun } from './types.js';

/** Fields every recording method takes. */
export interface EventOptions {
  /** Who acted; `tool` for actionResponse, `agent` for the rest unless given. */
  actor?: Actor;
  usage?: Usage;
  /** More payload fields, stored as sent beside the ones the method sets. */
  extra?: Record<string, unknown>;
}

export interface ActionRequestOptions extends EventOptions {
  /** Links the request to its response. */
  callId?: string;
}

export interface ActionResponseOptions extends EventOptions {
  callId?: string;
  /** Default `error` when `error` is given, else `ok`. */
  status?: 'ok' | 'error';
  error?: string;
}

export interface ErrorOptions extends EventOptions {
  code?: string;
}

/** Where a Run's events go: the client's pipeline. */
export interface RunSink {
  /** Serialise and queue one event; never throws. */
  record(event: TraceEvent): void;
  finalize(runId: string, status: FinalStatus): Promise<WardenRun | null>;
}

/**
 * One run of an agent, recorded event by event. Each method stamps the
 * event with the next sequence number, the time and an idempotency key
 * (`<run id>:<seq>`) that makes every retry and replay of it a duplicate on
 * the server, then queues it and returns its sequence number at once.
 */
export class Run {
  private seq = 0;
  private finishing: Promise<WardenRun | null> | undefined;

  constructor(
    private readonly sink: RunSink,
    readonly id: string,
    readonly agent: string,
    private readonly agentId: string | undefined,
  ) {}

  /** The sequence number of the last event recorded (0 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  reasoning(text: string, options: EventOptions = {}): number {
    return this.emit('reasoning', 'agent', { text }, options);
  }

  actionRequest(tool: string, args?: unknown, options: ActionRequestOptions = {}): number {
    return this.emit('action_request', 'agent', { tool, arguments: args, call_id: options.callId }, options);
  }

  actionResponse(tool: string, output?: unknown, options: ActionResponseOptions = {}): number {
    const status = options.status ?? (options.error === undefined ? 'ok' : 'error');
    return this.emit('action_response', 'tool', { tool, call_id: options.callId, output, status, error: options.error }, options);
  }

  /** A string is the final text; anything else is stored as `output`. */
  finalOutput(textOrOutput: unknown, options: EventOptions = {}): number {
    return this.emit('final_output', 'agent', typeof textOrOutput === 'string' ? { text: textOrOutput } : { output: textOrOutput }, options);
  }

  error(message: string, options: ErrorOptions = {}): number {
    // Warden refuses an error event without a message; an empty one still says something failed.
    return this.emit('error', 'agent', { message: message || 'Unknown error', code: options.code }, options);
  }

  /**
   * Flush this run's events, then finalize it. Resolves with the run as
   * Warden answers it, evaluation included; or null when Warden could not
   * be reached (the finalize is then spooled, or held, and sent later).
   * A second call returns the first call's promise.
   */
  finish(status: FinalStatus = 'completed'): Promise<WardenRun | null> {
    this.finishing ??= this.sink.finalize(this.id, status);
    return this.finishing;
  }

  private emit(type: EventType, actor: Actor, fields: Record<string, unknown>, options: EventOptions): number {
    const seq = ++this.seq;
    const payload: Record<string, unknown> = { ...options.extra };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) payload[k] = v;
    if (options.usage !== undefined) payload.usage = options.usage;
    this.sink.record({
      seq,
      t: Date.now(),
      actor: options.actor ?? actor,
      type,
      payload,
      meta: { run_id: this.id, ...(this.agentId !== undefined && { agent_id: this.agentId }), idempotency_key: `${this.id}:${seq}` },
    });
    return seq;
  }
}
