import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { isPermission } from '../identity/rbac.js';
import { compileRule, type LimitRuleConfig } from '../limits/rules.js';
import { ConfigSchema, type RawConfig } from './schema.js';

/** Config as the rest of Warden sees it: parsed once, validated, frozen. */
export type Config = Readonly<RawConfig> & { readonly source: string; readonly warnings: readonly string[] };

/** Bad configuration: the CLI exits with code 2 and prints `message`. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const ENV_OVERRIDES: ReadonlyArray<[env: string, path: [string, string], kind: 'int' | 'string']> = [
  ['WARDEN_HOST', ['server', 'host'], 'string'],
  ['WARDEN_PORT', ['server', 'port'], 'int'],
  ['WARDEN_DATABASE_URL', ['storage', 'url'], 'string'],
  ['WARDEN_LOG_LEVEL', ['log', 'level'], 'string'],
  ['WARDEN_REDIS_URL', ['limits', 'redis_url'], 'string'],
];

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replace ${VAR} and ${VAR:-default} in every string; note unset ones without a default. */
function interpolate(node: unknown, path: string, env: NodeJS.ProcessEnv, warnings: string[]): unknown {
  if (typeof node === 'string') {
    return node.replace(REF, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      warnings.push(`${path} refers to \${${name}}, which is not set; using an empty value`);
      return '';
    });
  }
  if (Array.isArray(node)) return node.map((v, i) => interpolate(v, `${path}[${i}]`, env, warnings));
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = interpolate(v, path ? `${path}.${k}` : k, env, warnings);
    return out;
  }
  return node;
}

function applyEnvOverrides(doc: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, [section, key], kind] of ENV_OVERRIDES) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (kind === 'int') {
      if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} (server.${key}) must be a whole number, got "${raw}"`);
      value = Number(raw);
    }
    const current = doc[section];
    const obj = current && typeof current === 'object' ? (current as Record<string, unknown>) : {};
    obj[key] = value;
    doc[section] = obj;
  }
}

/** "/providers/0/type" → "providers[0].type" */
function keyName(pointer: string): string {
  return pointer
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

function validate(doc: unknown): RawConfig {
  const withDefaults = Value.Default(ConfigSchema, Value.Clone(doc));
  const problems: string[] = [];
  for (const e of Value.Errors(ConfigSchema, withDefaults)) {
    if (e.type === ValueErrorType.ObjectAdditionalProperties) continue; // reported below with the offending key's own name
    problems.push(`${keyName(e.path) || '(root)'}: ${e.message}${e.value !== undefined && typeof e.value !== 'object' ? ` (got ${JSON.stringify(e.value)})` : ''}`);
  }
  problems.push(...unknownKeys(withDefaults, ConfigSchema, ''));
  if (problems.length) throw new ConfigError(`invalid configuration:\n  - ${[...new Set(problems)].join('\n  - ')}`);
  return withDefaults as RawConfig;
}

/** Name each key the schema does not know, so a typo is reported as itself. */
function unknownKeys(value: unknown, schema: { type?: unknown; properties?: Record<string, unknown>; items?: unknown; additionalProperties?: unknown; patternProperties?: Record<string, unknown> }, path: string): string[] {
  const out: string[] = [];
  if (Array.isArray(value) && schema.items) {
    value.forEach((v, i) => out.push(...unknownKeys(v, schema.items as typeof schema, `${path}[${i}]`)));
  } else if (value && typeof value === 'object' && schema.properties) {
    for (const [k, v] of Object.entries(value)) {
      const child = schema.properties[k];
      const here = path ? `${path}.${k}` : k;
      if (!child) {
        if (schema.additionalProperties === false) out.push(`${here}: unknown key`);
      } else out.push(...unknownKeys(v, child as typeof schema, here));
    }
  } else if (value && typeof value === 'object' && schema.patternProperties) {
    const child = Object.values(schema.patternProperties)[0] as typeof schema;
    for (const [k, v] of Object.entries(value)) out.push(...unknownKeys(v, child, `${path}.${k}`));
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Parse YAML text (may be empty) plus the environment into a frozen Config. */
export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = process.env): Config {
  let doc: unknown;
  try {
    doc = text.trim() ? parseYaml(text) : {};
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new ConfigError(`${source}: not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc == null) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${source}: the top level must be a mapping of keys`);
  const warnings: string[] = [];
  const interpolated = interpolate(doc, '', env, warnings) as Record<string, unknown>;
  applyEnvOverrides(interpolated, env);
  const cfg = validate(interpolated);
  checkSemantics(cfg);
  return deepFreeze({ ...cfg, source, warnings });
}

function checkSemantics(cfg: RawConfig): void {
  const seen = new Set<string>();
  cfg.providers.forEach((p, i) => {
    if (seen.has(p.name)) throw new ConfigError(`invalid configuration:\n  - providers[${i}].name: "${p.name}" is used by another provider`);
    seen.add(p.name);
    try {
      new URL(p.base_url);
    } catch {
      throw new ConfigError(`invalid configuration:\n  - providers[${i}].base_url: not a valid URL`);
    }
  });
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(cfg.storage.url)) {
    throw new ConfigError('invalid configuration:\n  - storage.url: must start with sqlite: or postgres://');
  }
  // A misspelt permission would silently grant nothing.
  for (const [role, perms] of Object.entries(cfg.rbac.roles)) {
    (perms ?? []).forEach((perm, i) => {
      if (perm !== '*' && !isPermission(perm)) {
        throw new ConfigError(`invalid configuration:\n  - rbac.roles.${role}[${i}]: "${perm}" is not a permission (see GET /api/v1/roles for the list)`);
      }
    });
  }
  const names = new Set<string>();
  cfg.limits.rules.forEach((rule, i) => {
    try {
      compileRule(rule as LimitRuleConfig, 'config');
    } catch (err) {
      throw new ConfigError(`invalid configuration:\n  - limits.rules[${i}]: ${(err as Error).message}`);
    }
    if (names.has(rule.name)) throw new ConfigError(`invalid configuration:\n  - limits.rules[${i}]: the name "${rule.name}" is used twice`);
    names.add(rule.name);
  });
  checkMcpServers(cfg.mcp.servers);
}

/** Names unique; each server reached one way: `url` (Streamable HTTP, with headers) or `command` (stdio, with args, env, cwd). */
function checkMcpServers(list: RawConfig['mcp']['servers']): void {
  const servers = new Set<string>();
  list.forEach((s, i) => {
    const key = `mcp.servers[${i}]`;
    if (servers.has(s.name)) throw new ConfigError(`invalid configuration:\n  - ${key}: the name "${s.name}" is used twice`);
    servers.add(s.name);
    if ((s.url === undefined) === (s.command === undefined)) {
      throw new ConfigError(`invalid configuration:\n  - ${key}: give exactly one of url (a Streamable HTTP server) or command (a stdio server Warden starts); it has ${s.url === undefined ? 'neither' : 'both'}`);
    }
    if (s.url !== undefined) {
      for (const k of ['args', 'env', 'cwd'] as const) {
        if (s[k] !== undefined) throw new ConfigError(`invalid configuration:\n  - ${key}.${k}: only a server with command (stdio) takes it`);
      }
    } else if (Object.keys(s.headers).length > 0) {
      throw new ConfigError(`invalid configuration:\n  - ${key}.headers: a stdio server (command) takes no headers; give its credentials in env`);
    }
    for (const name of Object.keys(s.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConfigError(`invalid configuration:\n  - ${key}.env.${name}: not an environment variable name`);
    }
  });
}

/** Load from a file path; with no path, defaults plus environment. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  if (!file) return parseConfig('', '(defaults)', env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseConfig(text, file, env);
}
