export { ERRORS, WardenError, envelope } from './catalogue.js';
export type { ErrorCategory, ErrorCode, ErrorEnvelope } from './catalogue.js';
