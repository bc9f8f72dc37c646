/**
 * Worker-thread side of WorkerEventStore: owns its own storage connection and
 * does the hashing and inserting, so the gateway's event loop never blocks on
 * a batch write (a 500-event SQLite batch takes milliseconds of CPU).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStorage } from '../storage/index.js';
import { type EventJson, parseEventJson } from './json.js';

/** `events`: eventJson texts joined by newlines, as UTF-8. */
type Message = { type: 'append'; id: number; events: Uint8Array } | { type: 'close' };

const UTF8 = new TextDecoder();

const port = parentPort!;
const storage = await openStorage((workerData as { url: string }).url);

port.on('message', (m: Message) => {
  if (m.type === 'close') {
    void storage.close().finally(() => port.close());
    return;
  }
  let events;
  try {
    events = UTF8.decode(m.events).split('\n').map((line: EventJson) => parseEventJson(line));
  } catch (err) {
    port.postMessage({ id: m.id, ok: false, message: `unreadable event batch: ${(err as Error).message}` });
    return;
  }
  storage.appendEvents(events).then(
    () => port.postMessage({ id: m.id, ok: true }),
    (err: unknown) => port.postMessage({ id: m.id, ok: false, message: err instanceof Error ? err.message : String(err) }),
  );
});
port.postMessage({ ready: true });
