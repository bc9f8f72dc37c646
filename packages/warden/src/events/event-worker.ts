/**
 * Worker-thread side of WorkerEventStore: owns its own storage connection and
 * does the hashing and inserting, so the gateway's event loop never blocks on
 * a batch write (a 500-event SQLite batch takes milliseconds of CPU).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStorage } from '../storage/index.js';
import { type EventJson, parseEventJson } from './json.js';

/** `events`: eventJson texts joined by newlines. */
type Message = { type: 'append'; id: number; events: string } | { type: 'close' };

const port = parentPort!;
const storage = await openStorage((workerData as { url: string }).url);

port.on('message', (m: Message) => {
  if (m.type === 'close') {
    void storage.close().finally(() => port.close());
    return;
  }
  let events;
  try {
    events = m.events.split('\n').map((line: EventJson) => parseEventJson(line));
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
