export { GatewayMetrics } from './metrics.js';
export { createLoggers, REDACT_PATHS } from './logger.js';
export type { Logger, LoggerOptions, Loggers } from './logger.js';
export { RequestLog } from './request-log.js';
