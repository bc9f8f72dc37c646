export { LlmForwarder, PROXY_ROUTES } from './forward.js';
export type { ProxyRoute, ForwardInput } from './forward.js';
export type { UpstreamAnswer } from './upstream-call.js';
export { ProviderRouter, upstreamPath } from './providers.js';
export type { Provider, ApiFamily } from './providers.js';
export { PriceTable, shippedPrices } from './pricing.js';
export type { Price } from './pricing.js';
export { SseUsageReader, usageFromBody } from './usage.js';
export type { Usage, UsageFormat } from './usage.js';
