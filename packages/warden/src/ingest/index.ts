export { defaultBlobDir, FsBlobStore, type BlobStore } from './blobs.js';
export { GroupCommitter } from './committer.js';
export { policyEvent, TraceIngest, type EventResult, type IngestCaller, type IngestOptions } from './ingest.js';
export { CreateRun, EventBatch, FinalizeRun, MAX_BATCH, MAX_TIME_MS, Text, type EventProblem } from './schema.js';
export { DEFAULT_EVALUATION, evaluateRun, type EvaluationFinding, type EvaluationRules, type RequiredSteps, type RunEvaluation, type Severity } from './evaluate.js';
export { estimateCompletion, type ProgressEstimate } from './progress.js';
