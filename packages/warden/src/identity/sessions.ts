import { randomUUID } from 'node:crypto';
import { WardenError } from '../errors/index.js';
import type { Directory, UserRecord } from '../storage/types.js';
import { dummyVerify, verifyPassword } from './passwords.js';
import { type AccessTokenIssuer, newRefreshToken, refreshTokenId } from './tokens.js';

export interface SessionSettings {
  refreshTtlMs: number;
  /** Failed sign-ins in a row that lock the account. */
  lockoutThreshold: number;
  lockoutMs: number;
}

export interface SessionTokens {
  access_token: string;
  token_type: 'Bearer';
  /** Seconds (OAuth 2.0, RFC 6749 §5.1). */
  expires_in: number;
  refresh_token: string;
  user: { id: string; org_id: string; username: string; roles: string[] };
}

/** What happened, for the security event the route records; never holds a secret. */
export interface SessionOutcome {
  userId: string | null;
  orgId: string | null;
  /** Set when this failure locked the account. */
  lockedNow?: boolean;
  /** Set when a spent refresh token came back: its whole family was revoked. */
  familyRevoked?: { familyId: string; tokens: number };
}

/** A failure the route turns into the envelope plus a security event. */
export class SessionFailure extends Error {
  constructor(
    readonly error: WardenError,
    readonly outcome: SessionOutcome,
  ) {
    super(error.message);
  }
}

/**
 * Username + password sign-in, refresh-token rotation with reuse detection
 * (OAuth 2.0 Security BCP, RFC 9700 §4.14.2: a reused refresh token revokes
 * its family), sign-out, and account lockout after repeated failures.
 */
export class SessionService {
  constructor(
    private readonly directory: Directory,
    private readonly tokens: () => Promise<AccessTokenIssuer>,
    private readonly settings: SessionSettings,
    private readonly now: () => number = Date.now,
  ) {}

  async login(username: string, password: string): Promise<SessionTokens> {
    const user = await this.directory.findUserByUsername(username);
    if (!user || user.passwordHash === null) {
      await dummyVerify(); // the same time as a real check: no user enumeration by timing
      throw new SessionFailure(new WardenError('invalid_credentials'), { userId: null, orgId: null });
    }
    const outcome = { userId: user.id, orgId: user.orgId };
    if (user.lockedUntil !== null && user.lockedUntil > this.now()) {
      await dummyVerify(); // as long as a real check, so a lock cannot be told apart by timing
      throw new SessionFailure(new WardenError('account_locked'), outcome);
    }
    // A lock that ran out starts a fresh count, so the next run of failures locks again.
    if (user.lockedUntil !== null) await this.directory.resetLoginFailures(user.id);
    // Every attempt is counted before the password is checked, in one statement, so
    // a burst of concurrent guesses gets no more checks than the threshold allows.
    const attempt = await this.directory.recordLoginFailure(user.id, this.settings.lockoutThreshold, this.now() + this.settings.lockoutMs);
    if (attempt.failures > this.settings.lockoutThreshold) throw new SessionFailure(new WardenError('account_locked'), outcome);
    if (!(await verifyPassword(password, user.passwordHash))) {
      throw new SessionFailure(new WardenError(attempt.lockedNow ? 'account_locked' : 'invalid_credentials'), { ...outcome, lockedNow: attempt.lockedNow });
    }
    if (user.disabledAt !== null) throw new SessionFailure(new WardenError('account_disabled'), outcome);
    await this.directory.resetLoginFailures(user.id);
    return this.#issue(user, randomUUID());
  }

  async refresh(token: string): Promise<SessionTokens> {
    const rec = await this.directory.findRefreshToken(refreshTokenId(token));
    const now = this.now();
    if (!rec || rec.expiresAt <= now) throw new SessionFailure(new WardenError('invalid_refresh_token'), { userId: null, orgId: null });
    const outcome = { userId: rec.userId, orgId: rec.orgId };
    if (rec.revokedAt !== null) throw new SessionFailure(new WardenError('invalid_refresh_token'), outcome);
    if (!(await this.directory.consumeRefreshToken(rec.id, now))) {
      const tokens = await this.directory.revokeTokenFamily(rec.familyId, now);
      throw new SessionFailure(new WardenError('refresh_token_reused'), { ...outcome, familyRevoked: { familyId: rec.familyId, tokens } });
    }
    const user = await this.directory.findUserById(rec.userId);
    if (!user || user.disabledAt !== null) {
      await this.directory.revokeTokenFamily(rec.familyId, now);
      throw new SessionFailure(new WardenError('account_disabled'), outcome);
    }
    return this.#issue(user, rec.familyId);
  }

  /** Ends the sign-in the refresh token belongs to; unknown tokens are ignored (logout is idempotent). */
  async logout(token: string): Promise<SessionOutcome & { ended: boolean }> {
    const rec = await this.directory.findRefreshToken(refreshTokenId(token));
    if (!rec) return { userId: null, orgId: null, ended: false };
    await this.directory.revokeTokenFamily(rec.familyId, this.now());
    return { userId: rec.userId, orgId: rec.orgId, ended: true };
  }

  async #issue(user: UserRecord, familyId: string): Promise<SessionTokens> {
    const refresh = newRefreshToken();
    const now = this.now();
    await this.directory.createRefreshToken({
      id: refresh.id,
      familyId,
      userId: user.id,
      orgId: user.orgId,
      createdAt: now,
      expiresAt: now + this.settings.refreshTtlMs,
      usedAt: null,
      revokedAt: null,
    });
    const issuer = await this.tokens();
    const access = await issuer.issue({ userId: user.id, orgId: user.orgId, projectId: user.projectId, roles: user.roles, sessionId: familyId });
    return {
      access_token: access.token,
      token_type: 'Bearer',
      // Whole seconds from the token's iat (now, floored), i.e. exactly the configured lifetime.
      expires_in: Math.max(0, Math.round((access.expiresAt - Math.floor(now / 1000) * 1000) / 1000)),
      refresh_token: refresh.token,
      user: { id: user.id, org_id: user.orgId, username: user.username, roles: [...user.roles] },
    };
  }
}
