import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, adminGet, startStack } from './helpers.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
  const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: s.agentKey, maxRetries: 0 });
  await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'm' }] });
  for await (const _ of await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'm' }], stream: true })) void _;
  await fetch(`${s.url}/v1/models`, { headers: { authorization: 'Bearer wdn_bad' } });
  await s.gateway.writer.flush();
});
afterAll(async () => s?.close());

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' ') || l.startsWith(series + '{') && l.includes(series));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

describe('/metrics', () => {
  it('passes promtool check metrics', async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const file = join(s.dir, 'metrics.txt');
    writeFileSync(file, text);
    // promtool reads the exposition from stdin and exits non-zero on any problem (lint included).
    const out = execFileSync('sh', ['-c', `promtool check metrics < "${file}" 2>&1`], { encoding: 'utf8' });
    expect(out.trim()).toBe('');
  });

  it('counts requests, tokens, cost, auth failures and events written', async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(value(text, 'warden_requests_total{route="/v1/chat/completions",method="POST",status="200"}')).toBe(2);
    expect(text).toMatch(/warden_tokens_total\{provider="mock-openai",model="gpt-4o-mini",direction="input"\} [1-9]/);
    expect(text).toMatch(/warden_tokens_total\{provider="mock-openai",model="gpt-4o-mini",direction="output"\} [1-9]/);
    expect(text).toMatch(/warden_cost_usd_total\{provider="mock-openai",model="gpt-4o-mini"\} \d/);
    expect(value(text, 'warden_auth_failures_total{reason="invalid_api_key"}')).toBe(1);
    expect(value(text, 'warden_events_written_total')).toBeGreaterThanOrEqual(3);
    expect(text).toContain('warden_event_queue_depth 0');
    expect(text).toMatch(/warden_time_to_first_token_seconds_count\{provider="mock-openai"\} 1/);
    expect(text).toMatch(/warden_upstream_duration_seconds_count\{provider="mock-openai"\} 2/);
    expect(text).toContain('warden_process_cpu_seconds_total');
  });
});

describe('health', () => {
  it('/health is live and /health/ready checks storage and migrations', async () => {
    expect(await (await fetch(`${s.url}/health`)).json()).toEqual({ status: 'ok' });
    const r = await fetch(`${s.url}/health/ready`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ready', checks: { storage: 'ok', migrations: 'applied' } });
  });

  it('/health/detailed reports each component to admins only', async () => {
    const anon = await fetch(`${s.url}/health/detailed`);
    expect(anon.status).toBe(401);
    const r = await adminGet(s, '/health/detailed');
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('up');
    expect(r.body.components.storage).toMatchObject({ status: 'up', kind: 'sqlite' });
    expect(r.body.components.storage.latency_ms).toBeGreaterThanOrEqual(0);
    expect(r.body.components.migrations.pending).toEqual([]);
    expect(r.body.components.event_writer).toMatchObject({ status: 'up', dropped: 0 });
    expect(r.body.components.providers.map((p: any) => p.name)).toEqual(['mock-openai', 'mock-anthropic']);
    expect(JSON.stringify(r.body)).not.toContain('sk-upstream');
  });

  it('/health/ready answers 503 when storage is gone', async () => {
    const t = await startStack();
    await t.gateway.storage.close();
    const r = await fetch(`${t.url}/health/ready`);
    expect(r.status).toBe(503);
    expect(((await r.json()) as any).checks.storage).toBe('unreachable');
    await t.gateway.app.close();
    await t.mock.close();
  });
});
