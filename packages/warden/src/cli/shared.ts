import { existsSync } from 'node:fs';
import { type Config, ConfigError, loadConfig } from '../config/index.js';
import { systemEvent, type WardenEvent } from '../events/index.js';
import { PolicyLoadError } from '../policy/service.js';
import { MasterKeyError } from '../secrets/index.js';
import { openStorage } from '../storage/index.js';
import type { Storage } from '../storage/types.js';

/** --config FILE, else $WARDEN_CONFIG, else ./warden.yaml when present, else defaults + environment. */
export function resolveConfig(file: string | undefined): Config {
  const path = file ?? process.env.WARDEN_CONFIG ?? (existsSync('warden.yaml') ? 'warden.yaml' : undefined);
  return loadConfig(path);
}

/** Open and migrate the store a config names, run `fn`, always close. */
export async function withStorage<T>(config: Config, fn: (s: Storage) => Promise<T>): Promise<T> {
  const storage = await openStorage(config.storage.url);
  try {
    await storage.migrate();
    return await fn(storage);
  } finally {
    await storage.close();
  }
}

/** Admin actions taken from the command line are audited like API ones. */
export function cliEvent(kind: string, detail: Record<string, unknown>): WardenEvent {
  return systemEvent(kind, 'cli', 'allow', { ...detail, via: 'cli' });
}

export class UsageError extends Error {}

/** Exit codes: 0 ok, 1 failure, 2 bad configuration or usage. */
export function exitCodeFor(err: unknown): number {
  return err instanceof ConfigError || err instanceof UsageError || err instanceof MasterKeyError || err instanceof PolicyLoadError ? 2 : 1;
}
