import type { StoredEvent } from '../events/event.js';
import { eventToRow } from '../storage/index.js';
import type { EventQuery, Storage } from '../storage/types.js';

/**
 * The public (API, export) shape of an event: the stored column names
 * (snake_case), with `seq` first, time as ISO-8601 and `detail` as an object.
 */
export function publicEvent(e: StoredEvent): Record<string, unknown> {
  const { ts, ...row } = eventToRow(e, null, e.prevHash, e.hash);
  const { id, ...rest } = row;
  return { seq: e.seq, id, time: new Date(ts).toISOString(), ...rest, detail: e.detail, prev_hash: e.prevHash, hash: e.hash };
}

export const CSV_COLUMNS = [
  'seq', 'id', 'time', 'request_id', 'trace_id', 'kind', 'method', 'route', 'status', 'duration_ms', 'upstream_ms',
  'ttft_ms', 'key_id', 'user_id', 'agent_id', 'org_id', 'model', 'provider', 'tokens_in', 'tokens_out', 'cost_usd',
  'client_ip', 'user_agent', 'error_type', 'error_code', 'decision', 'detail', 'prev_hash', 'hash',
] as const;

/** RFC 4180: quote fields with comma, quote or line breaks; double inner quotes. */
function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  // A leading = + - @ would make spreadsheets run the cell as a formula (CSV injection).
  const safe = /^[=+\-@\t\r]/.test(s) && typeof v === 'string' ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvRow(e: StoredEvent): string {
  const p = publicEvent(e);
  return CSV_COLUMNS.map((c) => csvField(p[c])).join(',') + '\r\n';
}

/** Every matching event, oldest first, fetched a page at a time so memory stays flat. */
export async function* allEvents(storage: Storage, query: Omit<EventQuery, 'limit' | 'cursor' | 'order'>): AsyncGenerator<StoredEvent> {
  let cursor: string | undefined;
  do {
    const page = await storage.queryEvents({ ...query, order: 'asc', limit: 1000, cursor });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

export async function* exportLines(storage: Storage, query: Omit<EventQuery, 'limit' | 'cursor' | 'order'>, format: 'jsonl' | 'csv'): AsyncGenerator<string> {
  if (format === 'csv') yield CSV_COLUMNS.join(',') + '\r\n';
  let buf = '';
  for await (const e of allEvents(storage, query)) {
    buf += format === 'csv' ? csvRow(e) : JSON.stringify(publicEvent(e)) + '\n';
    if (buf.length > 64 * 1024) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}
