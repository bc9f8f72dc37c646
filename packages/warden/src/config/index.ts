export { loadConfig, parseConfig, ConfigError } from './load.js';
export type { Config } from './load.js';
export type { OidcIssuerConfig, ProviderConfig, PriceConfig, UpstreamConfig } from './schema.js';
