export { blankEvent } from './event.js';
export type { WardenEvent, StoredEvent, EventKind, Decision } from './event.js';
export { EventWriter } from './writer.js';
export type { EventStore, EventWriterOptions, EventWriterHooks } from './writer.js';
export { uuidv7 } from './ids.js';
export { newDraft, addDetail } from './draft.js';
export type { EventDraft } from './draft.js';
export { WorkerEventStore } from './worker-store.js';
