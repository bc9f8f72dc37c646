import { startMockUpstream } from '@warden/mock-upstream';
import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify } from 'yaml';
import { loadConfig, parseConfig, type Config } from '../config/index.js';
import { type Gateway, startGateway } from '../gateway.js';
import { newKey } from '../identity/index.js';
import { redactUrl } from '../storage/index.js';
import type { Storage } from '../storage/types.js';
import { cliEvent } from './shared.js';

/** Run until SIGTERM/SIGINT, then drain: in-flight requests finish and every queued event is written. */
export async function serveUntilSignal(gateway: Gateway, extraClose: () => Promise<void> = async () => {}): Promise<void> {
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        process.stderr.write(`warden: ${signal} again, exiting without waiting\n`);
        process.exit(1);
      }
      stopping = true;
      gateway.logger.info({ signal }, 'shutting down');
      void gateway
        .close()
        .then(extraClose)
        .catch((err: unknown) => process.stderr.write(`warden: error during shutdown: ${(err as Error).message}\n`))
        .finally(resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

export async function runStart(config: Config): Promise<void> {
  const gateway = await startGateway(config);
  await serveUntilSignal(gateway);
}

const DEMO_PROVIDER_KEY = 'demo-upstream-key';

/**
 * `warden demo`: the gateway on 127.0.0.1:8600 with SQLite under ./.warden,
 * in front of a built-in mock OpenAI/Anthropic upstream, and two fresh keys.
 */
export async function runDemo(opts: { host: string; port: number; dataDir: string; config?: string }, out: (s: string) => void): Promise<void> {
  // With --config, the file's settings apply (storage, logs, limits…) and only its providers are replaced by the mock.
  let base: Record<string, unknown> = {};
  if (opts.config) {
    loadConfig(opts.config); // a bad file fails here, exit 2, naming the key
    base = (parseYaml(readFileSync(opts.config, 'utf8')) ?? {}) as Record<string, unknown>;
  }
  const mock = await startMockUpstream({ host: '127.0.0.1', port: 0, apiKey: DEMO_PROVIDER_KEY });
  const yaml = stringify({
    ...base,
    server: { ...(base.server as object), host: opts.host, port: opts.port },
    storage: (base.storage as object) ?? { url: `sqlite:${opts.dataDir}/warden.db` },
    providers: [
      { name: 'mock-openai', type: 'openai-compatible', base_url: `${mock.url}/v1`, api_key: DEMO_PROVIDER_KEY, models: ['*'] },
      { name: 'mock-anthropic', type: 'anthropic', base_url: mock.url, api_key: DEMO_PROVIDER_KEY, models: ['*'] },
    ],
  });
  // WARDEN_* variables still apply, so `WARDEN_PORT=9000 npm start` works.
  const config = parseConfig(yaml, opts.config ?? 'demo');
  let gateway: Gateway;
  try {
    gateway = await startGateway(config);
  } catch (err) {
    await mock.close();
    throw err;
  }
  const admin = await demoKey(gateway.storage, 'demo-admin', 'admin');
  const agent = await demoKey(gateway.storage, 'demo-agent', 'agent');
  out(
    [
      '',
      `  Warden demo is running at ${gateway.url}`,
      `  (store: ${redactUrl(config.storage.url)}; upstream: built-in mock at ${mock.url})`,
      '',
      `  Admin key: ${admin}`,
      `  Agent key: ${agent}`,
      '',
      '  Try it:',
      `    curl ${gateway.url}/v1/chat/completions -H "Authorization: Bearer ${agent}" \\`,
      `      -H "Content-Type: application/json" -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'`,
      `    curl ${gateway.url}/api/v1/audit?limit=5 -H "Authorization: Bearer ${admin}"`,
      `    curl ${gateway.url}/metrics`,
      '',
      '  Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  await serveUntilSignal(gateway, () => mock.close());
}

/** Fresh demo keys each start (only hashes are stored, so old ones cannot be shown again); the previous ones are revoked. */
async function demoKey(storage: Storage, name: string, role: 'admin' | 'agent'): Promise<string> {
  const now = Date.now();
  for (const k of await storage.listKeys()) {
    if (k.name === name && k.revokedAt === null) await storage.revokeKey(k.id, now);
  }
  const { key, record } = newKey(name, role, null);
  await storage.createKey(record);
  await storage.appendEvents([cliEvent('admin.key.create', { target_key_id: record.id, name, role, demo: true })]);
  return key;
}
