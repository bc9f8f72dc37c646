/**
 * @warden/sdk: record AI agents' runs in Warden (docs/sdk.md).
 *
 *   const warden = new WardenClient({ url, apiKey, spoolDir: './.warden-spool' });
 *   const run = warden.startRun({ agent: 'refund-bot' });
 *   run.reasoning('Look the order up first.');
 *   const result = await run.finish();
 *   await warden.close();
 */
export { WardenClient, type WardenClientOptions, type StartRunOptions, type ClientStats } from './client.js';
export { Run, type EventOptions, type ActionRequestOptions, type ActionResponseOptions, type ErrorOptions } from './run.js';
export { wrapOpenAI, type OpenAILike, type WrapOpenAIOptions } from './openai.js';
export { WardenSdkError, type SdkErrorCode, type Operation } from './errors.js';
export { signRequest, bodySha256, type SigningCredentials, type SignInput } from './signing.js';
export { backoffDelay, parseRetryAfter, retryDelay, type BackoffPolicy } from './backoff.js';
export type { CircuitState } from './circuit.js';
export type { Actor, EventType, FinalStatus, Usage, TraceEvent, WardenRun, RunEvaluation, Finding, Severity, EventRejection, CreateRunBody } from './types.js';
