import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config/index.js';
import { createMasterKeyRing, loadMasterKeys, MasterKey, MasterKeyError, type MasterKeyRing, SecretBox } from '../secrets/index.js';
import { isPrivateToOneConnection, urlScheme } from '../storage/url.js';
import type { Storage } from '../storage/types.js';
import { KeyAuthenticator } from './authenticator.js';
import { CallerAuthenticator } from './caller.js';
import { HmacVerifier } from './hmac.js';
import { MemoryNonceStore } from './nonces.js';
import { OidcVerifier } from './oidc.js';
import { RolePermissions } from './rbac.js';
import { SessionService } from './sessions.js';
import { AccessTokenIssuer } from './tokens.js';
import { sqlitePathFromUrl } from '../storage/url.js';

/** Name of the system secret holding the HS256 key for Warden's access tokens. */
const ACCESS_TOKEN_SECRET = 'access_token_secret';

/**
 * Where the master key comes from: WARDEN_MASTER_KEY, else the configured
 * file, else master.key beside a SQLite database (created on first start,
 * mode 0600). An in-memory database gets a key that lives as long as it.
 */
export function masterKeyRing(config: Config, env: NodeJS.ProcessEnv = process.env): { ring: MasterKeyRing; defaulted: boolean } {
  const url = config.storage.url;
  if (!env.WARDEN_MASTER_KEY && !config.secrets.master_key_file && isPrivateToOneConnection(url)) {
    return { ring: createMasterKeyRing([new MasterKey(randomBytes(32))]), defaulted: true };
  }
  const beside = urlScheme(url) === 'sqlite:' ? join(dirname(resolve(sqlitePathFromUrl(url))), 'master.key') : resolve('.warden/master.key');
  const keyFile = config.secrets.master_key_file ?? beside;
  return { ring: loadMasterKeys({ env, keyFile, createIfMissing: true }), defaulted: config.secrets.master_key_file === undefined };
}

export interface IdentityServices {
  /**
   * Fails the start when the database's secrets were sealed with a master key
   * this process does not have (a replica started without the shared
   * WARDEN_MASTER_KEY would otherwise answer 500 on every sign-in).
   */
  checkMasterKey: () => Promise<void>;
  callers: CallerAuthenticator;
  rbac: RolePermissions;
  reloadRoles: () => Promise<void>;
  sessions: SessionService;
  secretBox: SecretBox;
  ring: MasterKeyRing;
}

/** Builds the identity stage from config and storage; part of the composition root. */
export function buildIdentity(config: Config, storage: Storage, ring: MasterKeyRing): IdentityServices {
  const box = new SecretBox(ring);
  const dir = storage.directory;
  let issuer: Promise<AccessTokenIssuer> | undefined;
  // Created once per installation (first writer wins across replicas), sealed with the master key.
  const accessTokens = (): Promise<AccessTokenIssuer> =>
    (issuer ??= (async () => {
      const aad = `system_secret:${ACCESS_TOKEN_SECRET}`;
      const sealed = (await dir.getSystemSecret(ACCESS_TOKEN_SECRET)) ?? (await dir.putSystemSecretOnce(ACCESS_TOKEN_SECRET, box.seal(randomBytes(32), aad)));
      return new AccessTokenIssuer(box.open(sealed, aad), { ttlSeconds: config.auth.access_token_ttl_s });
    })().catch((err: unknown) => {
      issuer = undefined; // retry on the next request rather than failing forever
      throw err;
    }));
  const hmac = new HmacVerifier({
    lookup: async (id) => {
      const s = await dir.getSigningSecret(id);
      if (!s) return undefined;
      return { secret: box.open(s.sealed, `signing_secret:${s.id}`), orgId: s.orgId, projectId: s.projectId, revoked: s.revokedAt !== null };
    },
    // Per process: with several replicas a signed request could be replayed once on each (docs/security.md).
    nonces: new MemoryNonceStore(),
    skewSeconds: config.auth.hmac_skew_s,
  });
  const oidc = config.auth.oidc.length > 0 ? new OidcVerifier(config.auth.oidc.map((o) => ({ ...o, audience: o.audience }))) : null;
  const rbac = new RolePermissions(config.rbac.roles);
  const checkMasterKey = async (): Promise<void> => {
    const sealed = await dir.getSystemSecret(ACCESS_TOKEN_SECRET);
    if (sealed === undefined) return;
    try {
      box.open(sealed, `system_secret:${ACCESS_TOKEN_SECRET}`);
    } catch (err) {
      throw new MasterKeyError(
        `this database's secrets were sealed with a master key this gateway does not have (${(err as Error).message}). ` +
          'Every gateway on one database needs the same key: set WARDEN_MASTER_KEY (or secrets.master_key_file) to the key the others use.',
      );
    }
  };
  return {
    checkMasterKey,
    callers: new CallerAuthenticator({ storage, keys: new KeyAuthenticator(storage), accessTokens, oidc, hmac }),
    rbac,
    reloadRoles: async () => rbac.replace(await dir.listRolePermissions()),
    sessions: new SessionService(dir, accessTokens, {
      refreshTtlMs: config.auth.refresh_token_ttl_s * 1000,
      lockoutThreshold: config.auth.lockout_threshold,
      lockoutMs: config.auth.lockout_s * 1000,
    }),
    secretBox: box,
    ring,
  };
}

/** The AAD a provider's sealed api_key is bound to: an envelope copied to another provider does not open. */
export const providerKeyAad = (name: string): string => `provider_api_key:${name}`;

/**
 * Providers with their sealed api_key values (from `warden secrets seal`)
 * opened. A key that does not open stops the start, naming the provider and
 * why, never the value.
 */
export function openProviderKeys(providers: Config['providers'], box: SecretBox): Config['providers'] {
  return providers.map((p) => {
    if (p.api_key === undefined || !box.isSealed(p.api_key)) return p;
    try {
      return { ...p, api_key: box.openString(p.api_key, providerKeyAad(p.name)) };
    } catch (err) {
      throw new MasterKeyError(`providers "${p.name}": api_key is sealed but cannot be opened: ${(err as Error).message}`);
    }
  });
}
