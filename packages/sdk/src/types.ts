/** The wire shapes of Warden's trace API (docs/ingestion.md), as the SDK sends and reads them. */

export type Actor = 'agent' | 'tool' | 'user' | 'system' | 'redteam';
export type EventType = 'reasoning' | 'action_request' | 'action_response' | 'final_output' | 'error';
export type FinalStatus = 'completed' | 'failed';

/** Token counts and cost; they roll up to the run. */
export interface Usage {
  input_tokens?: number;
  output_tokens?: number;
  cost_usd?: number;
}

export interface TraceEvent {
  seq: number;
  /** Epoch milliseconds. */
  t: number;
  actor: Actor;
  type: EventType;
  payload: Record<string, unknown>;
  meta: { run_id: string; agent_id?: string; idempotency_key: string };
}

export interface CreateRunBody {
  id: string;
  agent: string;
  scenario?: string;
  seed?: string | number;
  metadata?: Record<string, unknown>;
}

export type Severity = 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';

/** One check's verdict on a finished run (docs/ingestion.md, post-run evaluation). */
export interface Finding {
  check: string;
  severity: Severity;
  message: string;
  /** The measured value the verdict rests on. */
  value: number | string;
}

export interface RunEvaluation {
  /** The worst finding's severity; INFO when nothing was found. */
  severity: Severity;
  findings: Finding[];
  evaluatedAt: number;
  events: number;
}

/** A run as Warden answers it. */
export interface WardenRun {
  id: string;
  agent: string;
  scenario: string | null;
  seed: string | null;
  metadata: Record<string, unknown> | null;
  status: 'running' | FinalStatus;
  created_at: string;
  finalized_at: string | null;
  last_seq: number | null;
  events: number;
  errors: number;
  flagged: number;
  usage: { input_tokens: number; output_tokens: number; cost_usd: number };
  evaluation: RunEvaluation | null;
  [field: string]: unknown;
}

/** One event Warden refused in a 207 answer; it is not retried. */
export interface EventRejection {
  event: TraceEvent;
  /** `invalid_event`, `run_not_found`, `content_blocked`, `payload_too_large`, … */
  code: string;
  /** A JSON pointer into the event, when the schema refused a field. */
  field?: string;
  message: string;
}
