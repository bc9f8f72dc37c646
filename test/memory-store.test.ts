import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, adminGet, flushed, startStack } from './helpers.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ storageUrl: 'sqlite::memory:' });
});
afterAll(async () => s?.close());

describe('gateway on an in-memory SQLite store', () => {
  it('records events even though no writer thread can open the same database', async () => {
    const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: s.agentKey, maxRetries: 0 });
    const { response } = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'mem' }] }).withResponse();
    await flushed(s);
    const ev = (await adminGet(s, '/api/v1/audit?kind=llm.request')).body.data;
    expect(ev.map((e: any) => e.request_id)).toEqual([response.headers.get('x-request-id')]);
    expect((await adminGet(s, '/api/v1/audit/verify')).body.ok).toBe(true);
  });
});
