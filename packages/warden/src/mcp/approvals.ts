import { uuidv7 } from '../events/index.js';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** A tool call held until a person decides it, as the approvals API shows it. */
export interface Approval {
  id: string;
  org_id: string;
  status: ApprovalStatus;
  requested_at: string;
  expires_at: string;
  /** Who made the call. */
  requester: { type: string; id: string; user_id: string | null; agent_id: string | null };
  server: string;
  tool: string;
  /** The call's arguments, redacted as its event stores them. */
  arguments: unknown;
  /** The `@approval` policies that held it. */
  policy_ids: string[];
  risk: number;
  request_id: string;
  decided_by: { type: string; id: string } | null;
  decided_at: string | null;
  note: string | null;
}

export type ApprovalRequest = Omit<Approval, 'id' | 'status' | 'requested_at' | 'expires_at' | 'decided_by' | 'decided_at' | 'note'>;

/** Decided approvals kept for the API after they settle. */
const KEEP_DECIDED = 1000;

/**
 * Tool calls waiting for a person. A held call waits on `request()`'s
 * promise; an approver settles it through `decide()`, or the timeout
 * expires it. Held in memory: a call held on one replica is decided on
 * that replica (docs/mcp.md#approvals).
 */
export class ApprovalQueue {
  readonly #pending = new Map<string, { approval: Approval; settle: (s: ApprovalStatus) => void; timer: NodeJS.Timeout }>();
  readonly #decided = new Map<string, Approval>();

  constructor(
    private readonly timeoutMs: number,
    /** Told when an approval is decided or expires (for the audit event). */
    private readonly onSettled: (a: Approval) => void = () => {},
  ) {}

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Holds a call: the promise settles with its status once decided, expired, or cancelled by the caller (`signal`). */
  request(input: ApprovalRequest, signal?: AbortSignal): { approval: Approval; settled: Promise<ApprovalStatus> } {
    const now = Date.now();
    const approval: Approval = {
      ...input,
      id: uuidv7(),
      status: 'pending',
      requested_at: new Date(now).toISOString(),
      expires_at: new Date(now + this.timeoutMs).toISOString(),
      decided_by: null,
      decided_at: null,
      note: null,
    };
    const settled = new Promise<ApprovalStatus>((resolve) => {
      const timer = setTimeout(() => this.#settle(approval.id, 'expired', null, null), this.timeoutMs);
      timer.unref();
      this.#pending.set(approval.id, { approval, settle: resolve, timer });
      signal?.addEventListener('abort', () => this.#settle(approval.id, 'expired', null, 'the caller cancelled the call'), { once: true });
    });
    return { approval, settled };
  }

  /** Approvals of an org (or of every org), newest first, optionally of one status. */
  list(orgId: string | null, status?: ApprovalStatus): Approval[] {
    const all = [...[...this.#pending.values()].map((p) => p.approval), ...this.#decided.values()];
    return all.filter((a) => (orgId === null || a.org_id === orgId) && (!status || a.status === status)).sort((a, b) => (a.id < b.id ? 1 : -1));
  }

  get(id: string): Approval | undefined {
    return this.#pending.get(id)?.approval ?? this.#decided.get(id);
  }

  /** Settles a pending approval; the decided (or already settled) approval, or undefined if there is none with this id. */
  decide(id: string, decision: 'approved' | 'denied', by: { type: string; id: string }, note: string | null): Approval | undefined {
    if (!this.#pending.has(id)) return this.#decided.get(id);
    return this.#settle(id, decision, by, note);
  }

  /** Expires every pending approval (shutdown): the held calls get their answer. */
  close(): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id, 'expired', null, 'the gateway is shutting down');
  }

  #settle(id: string, status: ApprovalStatus, by: { type: string; id: string } | null, note: string | null): Approval | undefined {
    const p = this.#pending.get(id);
    if (!p) return undefined;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    const a = p.approval;
    a.status = status;
    a.decided_by = by;
    a.decided_at = new Date().toISOString();
    a.note = note;
    this.#decided.set(id, a);
    if (this.#decided.size > KEEP_DECIDED) this.#decided.delete(this.#decided.keys().next().value!);
    this.onSettled(a);
    p.settle(status);
    return a;
  }
}
