import type { Op } from './transport.js';

export type EntryState = 'queued' | 'acked' | 'dropped' | 'spooled' | 'held';

/** An op waiting in memory in the pipeline, and what became of it. */
export class Entry {
  state: EntryState = 'queued';
  /** Set once a copy is in the spool (the op in flight keeps its place in memory as well). */
  spoolName: string | undefined;
  result: unknown;
  private waiters: Array<() => void> = [];

  constructor(readonly op: Op) {}

  get events(): number {
    return this.op.kind === 'events' ? this.op.events.length : 0;
  }

  settle(state: Exclude<EntryState, 'queued'>, result?: unknown): void {
    this.state = state;
    this.result = result;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once the op is acknowledged, dropped, spooled, or held in memory while Warden is away. */
  settled(): Promise<void> {
    return this.state === 'queued' ? new Promise((resolve) => this.waiters.push(resolve)) : Promise.resolve();
  }
}
