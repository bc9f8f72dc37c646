import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './index.js';

const MINIMAL = `
server:
  host: 127.0.0.1
  port: 8600
storage:
  url: sqlite:./.warden/warden.db
providers:
  - name: openai
    type: openai
    base_url: https://api.openai.com/v1
    api_key: \${OPENAI_API_KEY}
    models: ["gpt-*", "o*", "text-embedding-*"]
  - name: anthropic
    type: anthropic
    base_url: https://api.anthropic.com
    api_key: \${ANTHROPIC_API_KEY}
    models: ["claude-*"]
`;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('accepts the minimal documented file and resolves ${ENV} secrets', () => {
    const c = parseConfig(MINIMAL, 'warden.yaml', { OPENAI_API_KEY: 'sk-test', ANTHROPIC_API_KEY: 'ak-test' });
    expect(c.server.port).toBe(8600);
    expect(c.providers.map((p) => [p.name, p.api_key])).toEqual([['openai', 'sk-test'], ['anthropic', 'ak-test']]);
    expect(c.warnings).toEqual([]);
    expect(c.upstream.headers_timeout_ms).toBeGreaterThan(0);
    expect(Object.isFrozen(c.providers[0])).toBe(true);
  });

  it('warns, naming the key, when a referenced variable is unset', () => {
    const c = parseConfig(MINIMAL, 'warden.yaml', { OPENAI_API_KEY: 'sk' });
    expect(c.warnings).toEqual(['providers[1].api_key refers to ${ANTHROPIC_API_KEY}, which is not set; using an empty value']);
  });

  it('supports ${VAR:-default}', () => {
    const c = parseConfig('storage:\n  url: ${DB:-sqlite::memory:}\n', 'x', {});
    expect(c.storage.url).toBe('sqlite::memory:');
  });

  it('lets WARDEN_* environment variables override the file', () => {
    const c = parseConfig(MINIMAL, 'f', { WARDEN_PORT: '9100', WARDEN_HOST: '0.0.0.0', WARDEN_DATABASE_URL: 'postgres://u@h:5432/db', WARDEN_LOG_LEVEL: 'debug' });
    expect([c.server.port, c.server.host, c.storage.url, c.log.level]).toEqual([9100, '0.0.0.0', 'postgres://u@h:5432/db', 'debug']);
  });

  it('names the key and the problem for a wrong type', () => {
    const msg = errorOf(() => parseConfig('server:\n  port: eighty\n', 'f', {}));
    expect(msg).toContain('server.port');
    expect(msg).toContain('"eighty"');
  });

  it('names an unknown provider type by its path', () => {
    const msg = errorOf(() => parseConfig(MINIMAL.replace('type: anthropic', 'type: antropic'), 'f', {}));
    expect(msg).toContain('providers[1].type');
  });

  it('names a misspelt permission in rbac.roles instead of silently granting nothing', () => {
    expect(() => parseConfig('rbac:\n  roles:\n    agent: ["llm:call", "llm:cal"]\n', 'f.yaml', {})).toThrow(/rbac\.roles\.agent\[1\]: "llm:cal" is not a permission/);
    expect(parseConfig('rbac:\n  roles:\n    agent: ["llm:call", "models:read"]\n', 'f.yaml', {}).rbac.roles.agent).toEqual(['llm:call', 'models:read']);
  });

  it('names a misspelt key', () => {
    const msg = errorOf(() => parseConfig('server:\n  prot: 80\n', 'f', {}));
    expect(msg).toContain('server.prot: unknown key');
  });

  it('rejects a bad WARDEN_PORT naming the variable', () => {
    expect(errorOf(() => parseConfig('', 'f', { WARDEN_PORT: 'abc' }))).toContain('WARDEN_PORT');
  });

  it('rejects invalid YAML with its line', () => {
    expect(errorOf(() => parseConfig('server:\n  port: [1,\n', 'f', {}))).toMatch(/not valid YAML at line \d/);
  });

  it('rejects duplicate provider names and unknown storage schemes', () => {
    const dup = MINIMAL.replace('name: anthropic', 'name: openai');
    expect(errorOf(() => parseConfig(dup, 'f', {}))).toContain('providers[1].name');
    expect(errorOf(() => parseConfig('storage:\n  url: mysql://x\n', 'f', {}))).toContain('storage.url');
  });
});

describe('mcp.servers', () => {
  const withServers = (servers: unknown[]) => `mcp:\n  servers: ${JSON.stringify(servers)}\n`;

  it('takes a server with defaults for its timeout and refresh', () => {
    const c = parseConfig(withServers([{ name: 'github', url: 'https://mcp.example.com/mcp' }]), 't', {});
    expect(c.mcp.servers[0]).toEqual({ name: 'github', url: 'https://mcp.example.com/mcp', headers: {}, timeout_ms: 30_000, refresh_s: 300, circuit: { failures: 5, cooldown_s: 30 } });
  });

  it('takes a stdio server: command, args, env and cwd, and a circuit of its own', () => {
    const c = parseConfig(withServers([{ name: 'files', command: 'npx', args: ['-y', 'server-files'], env: { TOKEN: '${FILES_TOKEN}' }, cwd: '/srv', circuit: { failures: 2, cooldown_s: 1 } }]), 't', { FILES_TOKEN: 'tok' });
    expect(c.mcp.servers[0]).toEqual({ name: 'files', command: 'npx', args: ['-y', 'server-files'], env: { TOKEN: 'tok' }, cwd: '/srv', headers: {}, timeout_ms: 30_000, refresh_s: 300, circuit: { failures: 2, cooldown_s: 1 } });
  });

  it('refuses a server with both url and command, or neither, naming it', () => {
    expect(() => parseConfig(withServers([{ name: 'a', url: 'http://x' }, { name: 'b', url: 'http://y', command: 'node' }]), 't', {})).toThrow(/mcp\.servers\[1\]: give exactly one of url .* or command .*; it has both/);
    expect(() => parseConfig(withServers([{ name: 'a' }]), 't', {})).toThrow(/mcp\.servers\[0\]: give exactly one of url .* or command .*; it has neither/);
  });

  it('refuses stdio keys on a url server and headers on a stdio server, naming the key', () => {
    expect(() => parseConfig(withServers([{ name: 'a', url: 'http://x', args: ['-v'] }]), 't', {})).toThrow(/mcp\.servers\[0\]\.args: only a server with command/);
    expect(() => parseConfig(withServers([{ name: 'a', url: 'http://x', env: { A: 'b' } }]), 't', {})).toThrow(/mcp\.servers\[0\]\.env: only a server with command/);
    expect(() => parseConfig(withServers([{ name: 'a', command: 'node', headers: { authorization: 'x' } }]), 't', {})).toThrow(/mcp\.servers\[0\]\.headers: a stdio server/);
  });

  it('refuses a bad circuit or env name, naming the key', () => {
    expect(() => parseConfig(withServers([{ name: 'a', url: 'http://x', circuit: { failures: 0 } }]), 't', {})).toThrow(/mcp\.servers\[0\]\.circuit\.failures/);
    expect(() => parseConfig(withServers([{ name: 'a', command: 'node', env: { 'BAD-NAME': 'x' } }]), 't', {})).toThrow(/mcp\.servers\[0\]\.env\.BAD-NAME: not an environment variable name/);
  });

  it('refuses a name that would make namespaced tool names ambiguous, naming the key', () => {
    expect(() => parseConfig(withServers([{ name: 'a__b', url: 'http://x' }]), 't', {})).toThrow(/mcp\.servers\[0\]\.name/);
    expect(() => parseConfig(withServers([{ name: 'tools_', url: 'http://x' }]), 't', {})).toThrow(/mcp\.servers\[0\]\.name/);
  });

  it('refuses two servers with one name', () => {
    expect(() => parseConfig(withServers([{ name: 'a', url: 'http://x' }, { name: 'a', url: 'http://y' }]), 't', {})).toThrow(/mcp\.servers\[1\]: the name "a" is used twice/);
  });
});
