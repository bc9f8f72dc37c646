/**
 * Worker-thread side of WorkerEventStore: owns its own storage connection and
 * does the hashing and inserting of events, and the trace transactions, so the
 * gateway's event loop never blocks on a batch write (a 500-event SQLite batch
 * takes milliseconds of CPU).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStorage, type TraceEventInput } from '../storage/index.js';
import { type EventJson, parseEventJson } from './json.js';

/** `append`: eventJson texts joined by newlines, as UTF-8; `traces`: one trace transaction. */
type Message = { type: 'append'; id: number; events: Uint8Array } | { type: 'traces'; id: number; events: TraceEventInput[] } | { type: 'close' };

const UTF8 = new TextDecoder();

const port = parentPort!;
const storage = await openStorage((workerData as { url: string }).url);

port.on('message', (m: Message) => {
  if (m.type === 'close') {
    void storage.close().finally(() => port.close());
    return;
  }
  const answer = (work: Promise<unknown>) =>
    work.then(
      (result) => port.postMessage({ id: m.id, ok: true, result }),
      (err: unknown) => port.postMessage({ id: m.id, ok: false, message: err instanceof Error ? err.message : String(err) }),
    );
  if (m.type === 'traces') {
    void answer(storage.traces.appendTraceEvents(m.events));
    return;
  }
  let events;
  try {
    events = UTF8.decode(m.events).split('\n').map((line: EventJson) => parseEventJson(line));
  } catch (err) {
    port.postMessage({ id: m.id, ok: false, message: `unreadable event batch: ${(err as Error).message}` });
    return;
  }
  void answer(storage.appendEvents(events));
});
port.postMessage({ ready: true });
