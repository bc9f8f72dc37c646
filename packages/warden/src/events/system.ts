import { blankEvent, type Decision, type WardenEvent } from './event.js';
import { uuidv7 } from './ids.js';

/** An event no HTTP request carries (a CLI action, the limit store going away): its own ids, now. */
export function systemEvent(kind: string, route: string, decision: Decision | null, detail: Record<string, unknown>): WardenEvent {
  const ts = Date.now();
  return { ...blankEvent(), id: uuidv7(ts), ts, requestId: uuidv7(ts), kind, route, decision, detail };
}
