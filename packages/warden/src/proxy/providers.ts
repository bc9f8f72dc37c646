import { Pool } from 'undici';
import type { ProviderConfig, UpstreamConfig } from '../config/index.js';
import { ModelMatcher, isGlob, keyAllowsModel } from '../identity/index.js';
import type { PriceTable } from './pricing.js';

/** Which wire format a route speaks. */
export type ApiFamily = 'openai' | 'anthropic';

export interface Provider {
  readonly name: string;
  readonly type: ProviderConfig['type'];
  readonly family: ApiFamily;
  readonly origin: string;
  /** Path prefix from base_url, without a trailing slash. */
  readonly basePath: string;
  readonly apiKey: string;
  readonly matcher: ModelMatcher;
  readonly pool: Pool;
  readonly timeouts: { headersMs: number; bodyMs: number };
}

function familyOf(type: ProviderConfig['type']): ApiFamily {
  return type === 'anthropic' ? 'anthropic' : 'openai';
}

/**
 * Providers from config, each with its own keep-alive pool (undici), and
 * model → provider routing: the first provider, in config order, that speaks
 * the route's wire format and whose model globs match.
 */
export class ProviderRouter {
  readonly providers: readonly Provider[];

  constructor(configs: readonly ProviderConfig[], defaults: UpstreamConfig) {
    this.providers = configs.map((c) => {
      const u = { ...defaults, ...c.upstream };
      const url = new URL(c.base_url);
      return {
        name: c.name,
        type: c.type,
        family: familyOf(c.type),
        origin: url.origin,
        basePath: url.pathname.replace(/\/+$/, ''),
        apiKey: c.api_key ?? '',
        matcher: new ModelMatcher(c.models),
        pool: new Pool(url.origin, {
          connections: u.connections,
          connect: { timeout: u.connect_timeout_ms },
          headersTimeout: u.headers_timeout_ms,
          bodyTimeout: u.body_timeout_ms,
          keepAliveTimeout: 30_000,
        }),
        timeouts: { headersMs: u.headers_timeout_ms, bodyMs: u.body_timeout_ms },
      };
    });
  }

  route(family: ApiFamily, model: string): Provider | undefined {
    return this.providers.find((p) => p.family === family && p.matcher.matches(model));
  }

  /**
   * Concrete model names a key may use: literal names from provider configs,
   * plus price-table names that a provider's globs cover.
   */
  listModels(prices: PriceTable, allowed: readonly string[] | null): Array<{ id: string; provider: string }> {
    const out = new Map<string, string>();
    for (const p of this.providers) {
      for (const pattern of p.matcher.patterns) if (!isGlob(pattern) && !out.has(pattern)) out.set(pattern, p.name);
      for (const m of prices.models()) if (p.matcher.matches(m) && !out.has(m)) out.set(m, p.name);
    }
    return [...out]
      .filter(([id]) => keyAllowsModel(allowed, id))
      .map(([id, provider]) => ({ id, provider }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  async close(): Promise<void> {
    await Promise.all(this.providers.map((p) => p.pool.close().catch(() => undefined)));
  }
}

/** Upstream path for a route: OpenAI base URLs include /v1, Anthropic's do not (as in their SDKs). */
export function upstreamPath(p: Provider, routePath: string): string {
  if (p.family === 'anthropic') {
    return p.basePath.endsWith('/v1') ? p.basePath + routePath.slice(3) : p.basePath + routePath;
  }
  return p.basePath + routePath.replace(/^\/v1/, '');
}
