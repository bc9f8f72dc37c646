// Test helper (not a test): policy requests shared by the policy end-to-end tests.
import { expect } from 'vitest';
import type { Stack } from './helpers.js';
import { type Answer, call } from './identity-helpers.js';

export const forbidModel = (id: string, model: string) =>
  `@id("${id}")\nforbid (\n  principal,\n  action == Warden::Action::"llm:call",\n  resource == Warden::Model::"${model}"\n);\n`;

export function chat(stack: Stack, key: string, model: string, requestId?: string): Promise<Answer> {
  return call(stack, 'POST', '/v1/chat/completions', {
    auth: key,
    body: { model, messages: [{ role: 'user', content: 'hi' }] },
    headers: requestId ? { 'x-request-id': requestId } : {},
  });
}

export function putPolicy(stack: Stack, name: string, text: string, opts: { key?: string; expected?: number } = {}): Promise<Answer> {
  const body = opts.expected === undefined ? { text } : { text, expected_version: opts.expected };
  return call(stack, 'PUT', `/api/v1/policies/${name}`, { auth: opts.key ?? stack.adminKey, body });
}

export async function removePolicy(stack: Stack, name: string, key = stack.adminKey): Promise<void> {
  const r = await call(stack, 'DELETE', `/api/v1/policies/${name}`, { auth: key });
  expect([200, 404], JSON.stringify(r.body)).toContain(r.status);
}
