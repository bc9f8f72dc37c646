import type { Guard, TextSource } from '../guard/index.js';
import { jsonTexts, Redactor } from '../guard/index.js';
import type { TraceEventInput } from '../storage/index.js';
import type { BlobStore } from './blobs.js';
import type { GroupCommitter } from './committer.js';
import { checkEvent, type EventProblem, type TraceEventBody } from './schema.js';

/** Who is sending, as the route knows it. */
export interface IngestCaller {
  orgId: string;
  projectId: string | null;
  /** Key, user or agent id, recorded in each event's meta. */
  principalId: string;
  agentId: string | null;
  /**
   * The policy decision on storing one event in a run (Cedar `trace:ingest`):
   * null to store it, or why not. Absent: no policy applies.
   */
  authorize?: (runId: string, event: { type: string; actor: string; tool: string }) => string | null;
}

/** The answer for one event, in the batch's order. */
export type EventResult =
  | { index: number; status: 'stored'; seq: number; flags: string[] }
  | { index: number; status: 'duplicate'; seq: number }
  | { index: number; status: 'rejected'; seq: number | null; error: EventProblem };

export interface IngestOptions {
  /** Payloads larger than this (bytes of JSON) go to the blob store. */
  blobThresholdBytes: number;
  /** Payloads larger than this are refused. */
  maxPayloadBytes: number;
}

/** What a guard finding's action does to an ingested event. */
const SOURCES: Record<TraceEventBody['type'], TextSource> = {
  reasoning: 'user',
  action_request: 'user',
  action_response: 'tool_result',
  final_output: 'user',
  error: 'user',
};

/** What a trace:ingest decision sees of an event (Cedar `context.event`). */
export function policyEvent(e: { type: string; actor: string; payload: unknown }): { type: string; actor: string; tool: string } {
  const tool = (e.payload as { tool?: unknown } | null)?.tool;
  return { type: e.type, actor: e.actor, tool: typeof tool === 'string' ? tool : '' };
}

/**
 * The ingest stage: validates each event by its type, runs the guardrails
 * on its payload (a finding whose action is block refuses the event with its
 * reasons; redact stores the redacted payload; flag stores it flagged), moves
 * large payloads to the blob store, and stores the accepted events through
 * the group committer. Resolves only once they are committed.
 */
export class TraceIngest {
  constructor(
    private readonly committer: GroupCommitter,
    private readonly guard: Guard | null,
    private readonly blobs: BlobStore | null,
    private readonly opts: IngestOptions,
  ) {}

  /** Accepted events waiting for their transaction, how many may wait before a batch is refused with 503, and when one last was. */
  queue(): { depth: number; capacity: number; lastRefusal: number } {
    return { depth: this.committer.depth, capacity: this.committer.capacity, lastRefusal: this.committer.lastRefusal };
  }

  /** Resolves once every accepted batch has been committed or refused. */
  idle(): Promise<void> {
    return this.committer.idle();
  }

  /** A stored large payload, by its reference; undefined when there is no blob store or no such blob. */
  blob(ref: string): Promise<Buffer | undefined> {
    return this.blobs ? this.blobs.get(ref) : Promise.resolve(undefined);
  }

  /**
   * `autoSeq`: each event takes its run's next sequence number when stored, whatever
   * its `seq` says (events made from OTLP spans, which have no sequence of their own).
   */
  async ingest(caller: IngestCaller, raw: readonly unknown[], runId: string | null, now = Date.now(), autoSeq = false): Promise<EventResult[]> {
    const results: Array<EventResult | undefined> = new Array(raw.length);
    const accepted: Array<{ index: number; input: TraceEventInput }> = [];
    for (let index = 0; index < raw.length; index++) {
      const checked = checkEvent(raw[index]);
      const seqOf = (v: unknown) => (typeof (v as { seq?: unknown })?.seq === 'number' ? (v as { seq: number }).seq : null);
      if (!checked.ok) {
        results[index] = { index, status: 'rejected', seq: seqOf(raw[index]), error: checked.problem };
        continue;
      }
      const e = checked.event;
      const run = runId ?? e.meta?.run_id;
      if (!run) {
        results[index] = { index, status: 'rejected', seq: e.seq, error: { code: 'invalid_event', field: '/meta/run_id', message: 'Each event of a batch names its run in meta.run_id' } };
        continue;
      }
      if (runId !== null && e.meta?.run_id !== undefined && e.meta.run_id !== runId) {
        results[index] = { index, status: 'rejected', seq: e.seq, error: { code: 'invalid_event', field: '/meta/run_id', message: `meta.run_id names another run than the path (${runId})` } };
        continue;
      }
      const prepared = await this.#prepare(caller, e, run, now);
      if ('code' in prepared) results[index] = { index, status: 'rejected', seq: e.seq, error: prepared };
      else accepted.push({ index, input: autoSeq ? { ...prepared, autoSeq } : prepared });
    }
    const outcomes = accepted.length > 0 ? await this.committer.commit(accepted.map((a) => a.input)) : [];
    accepted.forEach(({ index, input }, i) => {
      const o = outcomes[i]!;
      results[index] =
        o.status === 'stored'
          ? { index, status: 'stored', seq: input.seq, flags: o.flags }
          : o.status === 'duplicate'
            ? { index, status: 'duplicate', seq: input.seq }
            : { index, status: 'rejected', seq: input.seq, error: { code: 'run_not_found', field: '/meta/run_id', message: `There is no run "${input.runId}" in your organization` } };
    });
    return results as EventResult[];
  }

  async #prepare(caller: IngestCaller, e: TraceEventBody, runId: string, now: number): Promise<TraceEventInput | EventProblem> {
    const decided = policyEvent(e);
    const denied = caller.authorize?.(runId, decided);
    if (denied) return { code: 'policy_denied', message: denied };
    const flags: string[] = [];
    const meta: Record<string, unknown> = { by: caller.principalId };
    const agentId = e.meta?.agent_id ?? caller.agentId;
    if (agentId) meta.agent_id = agentId;
    if (e.meta?.signature) meta.signature = e.meta.signature;
    if (this.guard) {
      const target = { orgId: caller.orgId, projectId: caller.projectId, route: '/api/v1/trace-events', model: null, tool: decided.tool || null, direction: 'request' as const };
      // Injection is scored in what an agent reads (tool results, users' words), not in what its model wrote.
      const reads = e.type === 'action_response' || e.actor === 'user' || e.actor === 'tool';
      const verdict = this.guard.inspectTexts(jsonTexts(e.payload, SOURCES[e.type]), target, new Redactor(), reads);
      if (verdict.action === 'block') {
        return { code: 'content_blocked', message: `A guardrail blocked this event: ${verdict.blocked.join(', ')}` };
      }
      if (verdict.findings.length > 0) {
        meta.findings = verdict.findings.map((f) => ({ type: f.type, where: f.where, hash: f.hash, preview: f.preview }));
        flags.push(verdict.redacted ? 'redacted' : 'guard');
      }
    }
    const json = JSON.stringify(e.payload ?? null);
    // UTF-8 takes at most 3 bytes a UTF-16 unit: most payloads are shown small without counting.
    const bytes = json.length * 3 <= Math.min(this.opts.maxPayloadBytes, this.opts.blobThresholdBytes) ? json.length : Buffer.byteLength(json);
    if (bytes > this.opts.maxPayloadBytes) {
      return { code: 'payload_too_large', field: '/payload', message: `The payload is ${bytes} bytes; at most ${this.opts.maxPayloadBytes} are accepted` };
    }
    let blob: string | null = null;
    if (this.blobs && bytes > this.opts.blobThresholdBytes) blob = await this.blobs.put(Buffer.from(json));
    const usage = (e.payload as { usage?: { input_tokens?: number; output_tokens?: number; cost_usd?: number } }).usage;
    return {
      orgId: caller.orgId,
      runId,
      seq: e.seq,
      t: typeof e.t === 'number' ? e.t : Date.parse(e.t),
      actor: e.actor,
      type: e.type,
      payload: blob ? null : json,
      blob,
      meta: JSON.stringify(meta),
      idempotencyKey: e.meta?.idempotency_key ?? null,
      flags,
      receivedAt: now,
      tokensIn: usage?.input_tokens ?? 0,
      tokensOut: usage?.output_tokens ?? 0,
      costUsd: usage?.cost_usd ?? 0,
    };
  }
}
