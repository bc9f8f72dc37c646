import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers.js';
import { call, chatAs, createUser, eventOf, events, expectError, expectNowhere, rid, signIn } from './identity-helpers.js';

let s: Stack;
/** Every password and token this file handles: none may reach the audit log or the logs. */
const secrets: string[] = [];

beforeAll(async () => {
  s = await startStack({ config: { auth: { lockout_threshold: 3 } } });
});
afterAll(async () => s?.close());

async function signedIn(roles: string[] = ['user']) {
  const u = await createUser(s, roles);
  const r = await signIn(s, u.username, u.password);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  secrets.push(u.password, r.body.access_token, r.body.refresh_token);
  return { user: u, tokens: r.body };
}

describe('sign-in', () => {
  it('a correct JSON sign-in returns a bearer access token, a refresh token and the user, and the token calls models', async () => {
    const { user, tokens } = await signedIn(['user']);
    expect(tokens).toEqual({
      access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.any(String),
      user: { id: user.id, org_id: 'default', username: user.username, roles: ['user'] },
    });
    const id = rid('jwt-chat');
    expect((await chatAs(s, tokens.access_token, { 'x-request-id': id })).status).toBe(200);
    const ev = await eventOf(s, 'llm.request', id);
    expect([ev.user_id, ev.org_id, ev.key_id]).toEqual([user.id, 'default', null]);
    const login = (await events(s, 'auth.login')).find((e) => e.user_id === user.id);
    expect(login).toMatchObject({ decision: 'allow', org_id: 'default', status: 200 });
  });

  it('an OAuth-style form post with grant_type=password signs in too', async () => {
    const u = await createUser(s, ['user']);
    secrets.push(u.password);
    const res = await fetch(`${s.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username: u.username, password: u.password }).toString(),
    });
    const body = (await res.json()) as any;
    expect(res.status).toBe(200);
    expect(body.token_type).toBe('Bearer');
    secrets.push(body.access_token, body.refresh_token);
    expect((await chatAs(s, body.access_token)).status).toBe(200);
  });

  it('a wrong password and an unknown username both get 401 invalid_credentials and an auth.failure event', async () => {
    const u = await createUser(s, ['user']);
    const wrongId = rid('wrong-pw');
    const wrong = await call(s, 'POST', '/auth/token', { body: { username: u.username, password: 'not-the-password-1' }, headers: { 'x-request-id': wrongId } });
    expectError(wrong, 401, 'invalid_credentials');
    const nobodyId = rid('nobody');
    const nobody = await call(s, 'POST', '/auth/token', { body: { username: 'nobody@example.com', password: 'whatever-password' }, headers: { 'x-request-id': nobodyId } });
    expectError(nobody, 401, 'invalid_credentials');
    expect(nobody.body.error.message).toBe(wrong.body.error.message); // no user enumeration
    const ev = await eventOf(s, 'auth.failure', wrongId);
    expect(ev).toMatchObject({ user_id: u.id, org_id: 'default', decision: 'deny', detail: { reason: 'invalid_credentials' } });
    expect((await eventOf(s, 'auth.failure', nobodyId)).detail.reason).toBe('invalid_credentials');
    secrets.push('not-the-password-1', 'whatever-password', u.password);
  });

  it('a user cannot be created with a password shorter than 12 characters', async () => {
    const r = await call(s, 'POST', '/api/v1/users', { auth: s.adminKey, body: { username: 'shorty@example.com', password: 'short-pw', roles: ['user'] } });
    expectError(r, 400, 'invalid_request');
  });
});

describe('lockout', () => {
  it('locks the account after lockout_threshold failures, records security.account_locked, refuses the right password, and unlock restores it', async () => {
    const u = await createUser(s, ['user']);
    secrets.push(u.password);
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) codes.push((await signIn(s, u.username, `wrong-password-${i}`)).body.error.code);
    expect(codes).toEqual(['invalid_credentials', 'invalid_credentials', 'account_locked']);
    expectError(await signIn(s, u.username, u.password), 401, 'account_locked');

    const locked = (await events(s, 'security.account_locked', s.adminKey)).filter((e) => e.user_id === u.id);
    expect(locked).toHaveLength(1);
    expect(locked[0]).toMatchObject({ org_id: 'default', detail: { user_id: u.id, org_id: 'default' } });

    const shown = await call(s, 'GET', `/api/v1/users/${u.id}`, { auth: s.adminKey });
    expect(shown.body.locked_until).toBeGreaterThan(Date.now());
    expect((await call(s, 'PATCH', `/api/v1/users/${u.id}`, { auth: s.adminKey, body: { unlock: true } })).status).toBe(200);
    const after = await signIn(s, u.username, u.password);
    expect(after.status).toBe(200);
    secrets.push(after.body.access_token, after.body.refresh_token);
  });

  it('concurrent wrong passwords get no more guesses checked than lockout_threshold allows, and lock the account', async () => {
    const u = await createUser(s, ['user']);
    secrets.push(u.password);
    const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => signIn(s, u.username, `burst-guess-${i}`)));
    const codes = burst.map((r) => r.body.error.code);
    // One after another, 8 guesses against a threshold of 3 give 2 × invalid_credentials, then account_locked.
    // Each invalid_credentials beyond that is a guess the lockout should have stopped.
    expect(codes.filter((c) => c === 'invalid_credentials').length, codes.join(',')).toBeLessThanOrEqual(2);
    expectError(await signIn(s, u.username, u.password), 401, 'account_locked');
  });
});

describe('refresh and logout', () => {
  it('refresh rotates both tokens, and the new access token works', async () => {
    const { tokens } = await signedIn();
    const r = await call(s, 'POST', '/auth/refresh', { body: { refresh_token: tokens.refresh_token } });
    expect(r.status).toBe(200);
    secrets.push(r.body.access_token, r.body.refresh_token);
    expect(r.body.refresh_token).not.toBe(tokens.refresh_token);
    expect(r.body.access_token).not.toBe(tokens.access_token);
    expect((await chatAs(s, r.body.access_token)).status).toBe(200);
  });

  it('reusing a spent refresh token gets 401 refresh_token_reused, ends the whole sign-in and records security.refresh_token_reuse', async () => {
    const { user, tokens } = await signedIn();
    const second = await call(s, 'POST', '/auth/refresh', { body: { refresh_token: tokens.refresh_token } });
    const third = await call(s, 'POST', '/auth/refresh', { body: { refresh_token: second.body.refresh_token } });
    expect([second.status, third.status]).toEqual([200, 200]);
    secrets.push(second.body.access_token, second.body.refresh_token, third.body.access_token, third.body.refresh_token);

    expectError(await call(s, 'POST', '/auth/refresh', { body: { refresh_token: tokens.refresh_token } }), 401, 'refresh_token_reused');
    // The newest token of that sign-in (held by the legitimate user or the thief) is dead too.
    expectError(await call(s, 'POST', '/auth/refresh', { body: { refresh_token: third.body.refresh_token } }), 401, 'invalid_refresh_token');

    const reuse = (await events(s, 'security.refresh_token_reuse', s.adminKey)).filter((e) => e.user_id === user.id);
    expect(reuse).toHaveLength(1);
    expect(reuse[0].detail).toMatchObject({ user_id: user.id, org_id: 'default', sessions_revoked: 3, description: 'A refresh token was used a second time; every token of that sign-in was revoked.' });
    expect(['low', 'medium', 'high', 'critical']).toContain(reuse[0].detail.severity);
    const failures = (await events(s, 'auth.failure', s.adminKey)).filter((e) => e.user_id === user.id);
    expect(failures.map((e) => e.detail.reason)).toEqual(['invalid_refresh_token', 'refresh_token_reused']); // newest first
  });

  it('reuse revokes only that sign-in: the same user\'s other sign-in keeps refreshing', async () => {
    const u = await createUser(s, ['user']);
    const a = (await signIn(s, u.username, u.password)).body;
    const b = (await signIn(s, u.username, u.password)).body;
    secrets.push(u.password, a.refresh_token, b.refresh_token, a.access_token, b.access_token);
    await call(s, 'POST', '/auth/refresh', { body: { refresh_token: a.refresh_token } });
    expect((await call(s, 'POST', '/auth/refresh', { body: { refresh_token: a.refresh_token } })).status).toBe(401);
    const other = await call(s, 'POST', '/auth/refresh', { body: { refresh_token: b.refresh_token } });
    expect(other.status).toBe(200);
    secrets.push(other.body.refresh_token, other.body.access_token);
  });

  it('logout answers 204 and its refresh token no longer refreshes; logging out again is harmless', async () => {
    const { user, tokens } = await signedIn();
    const out = await call(s, 'POST', '/auth/logout', { body: { refresh_token: tokens.refresh_token } });
    expect(out.status).toBe(204);
    expect(out.body).toBeNull();
    expectError(await call(s, 'POST', '/auth/refresh', { body: { refresh_token: tokens.refresh_token } }), 401, 'invalid_refresh_token');
    expect((await call(s, 'POST', '/auth/logout', { body: { refresh_token: tokens.refresh_token } })).status).toBe(204);
    const ev = (await events(s, 'auth.logout', s.adminKey)).filter((e) => e.user_id === user.id);
    expect(ev.map((e) => e.detail.ended)).toEqual([true, true]);
  });
});

describe('ending a sign-in ends its access tokens at once, not at expiry', () => {
  it('after logout the access token is refused', async () => {
    const { tokens } = await signedIn();
    expect((await chatAs(s, tokens.access_token)).status).toBe(200);
    expect((await call(s, 'POST', '/auth/logout', { body: { refresh_token: tokens.refresh_token } })).status).toBe(204);
    expectError(await chatAs(s, tokens.access_token), 401, 'invalid_token');
  });

  it('after a refresh token is reused (a theft signal), the access token issued by the thief\'s refresh is refused too', async () => {
    const { tokens } = await signedIn();
    const stolen = await call(s, 'POST', '/auth/refresh', { body: { refresh_token: tokens.refresh_token } });
    secrets.push(stolen.body.access_token, stolen.body.refresh_token);
    expect((await chatAs(s, stolen.body.access_token)).status).toBe(200);
    expectError(await call(s, 'POST', '/auth/refresh', { body: { refresh_token: tokens.refresh_token } }), 401, 'refresh_token_reused');
    expectError(await chatAs(s, stolen.body.access_token), 401, 'invalid_token');
    expectError(await chatAs(s, tokens.access_token), 401, 'invalid_token');
  });

  it('after an admin sets a new password, the old sign-in\'s access token is refused', async () => {
    const { user, tokens } = await signedIn();
    const r = await call(s, 'PATCH', `/api/v1/users/${user.id}`, { auth: s.adminKey, body: { password: 'a-brand-new-password-1' } });
    expect(r.status).toBe(200);
    expectError(await chatAs(s, tokens.access_token), 401, 'invalid_token');
  });
});

describe('changes to the user take effect on the next request', () => {
  it('disabling a user refuses their live access token, their refresh token and a new sign-in', async () => {
    const { user, tokens } = await signedIn();
    expect((await chatAs(s, tokens.access_token)).status).toBe(200);
    expect((await call(s, 'PATCH', `/api/v1/users/${user.id}`, { auth: s.adminKey, body: { disabled: true } })).status).toBe(200);
    expectError(await chatAs(s, tokens.access_token), 401, 'account_disabled');
    expectError(await call(s, 'POST', '/auth/refresh', { body: { refresh_token: tokens.refresh_token } }), 401, 'invalid_refresh_token');
    expectError(await signIn(s, user.username, user.password), 401, 'account_disabled');
  });

  it('demoting an admin user to user removes admin access at once, without waiting for the token to expire', async () => {
    const { user, tokens } = await signedIn(['admin']);
    expect((await call(s, 'GET', '/api/v1/users', { auth: tokens.access_token })).status).toBe(200);
    expect((await call(s, 'PATCH', `/api/v1/users/${user.id}`, { auth: s.adminKey, body: { roles: ['user'] } })).status).toBe(200);
    const denied = await call(s, 'GET', '/api/v1/users', { auth: tokens.access_token });
    expectError(denied, 403, 'permission_denied');
    expect(denied.body.error.message).toContain('users:read');
    expect((await chatAs(s, tokens.access_token)).status).toBe(200);
  });

  it('a password change ends existing sign-ins: the old refresh token is refused and only the new password signs in', async () => {
    const { user, tokens } = await signedIn();
    const newPassword = 'a-brand-new-password-42';
    secrets.push(newPassword);
    expect((await call(s, 'PATCH', `/api/v1/users/${user.id}`, { auth: s.adminKey, body: { password: newPassword } })).status).toBe(200);
    expectError(await call(s, 'POST', '/auth/refresh', { body: { refresh_token: tokens.refresh_token } }), 401, 'invalid_refresh_token');
    expectError(await signIn(s, user.username, user.password), 401, 'invalid_credentials');
    const fresh = await signIn(s, user.username, newPassword);
    expect(fresh.status).toBe(200);
    secrets.push(fresh.body.access_token, fresh.body.refresh_token);
  });
});

describe('secrecy', () => {
  it('no password, access token or refresh token used above appears in the audit log or the logs', async () => {
    expect(secrets.length).toBeGreaterThan(20);
    await expectNowhere(s, secrets);
    // The admin events about users carry no password material either.
    const changes = JSON.stringify(await events(s, 'admin.user.create,admin.user.update'));
    expect(changes).not.toMatch(/scrypt|password_hash|passwordHash/);
  });
});
