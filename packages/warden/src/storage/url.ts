/**
 * Replaces the password in a connection URL with `***`, for logs and errors.
 * Scans by hand rather than with `new URL`, which rejects (and so cannot
 * redact) the unencoded `/`, `?` or `#` people do put in passwords: the
 * userinfo is taken to end at the last `@`, erring towards hiding too much.
 */
export function redactUrl(url: string): string {
  let out = url;
  const start = url.indexOf('://');
  if (start !== -1) {
    const at = url.lastIndexOf('@');
    const colon = url.indexOf(':', start + 3);
    if (at > start && colon !== -1 && colon < at) {
      out = `${url.slice(0, colon + 1)}***${url.slice(at)}`;
    }
  }
  // libpq-style query parameter (postgres://host/db?password=...).
  return out.replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/** The scheme with its colon (`sqlite:`, `postgres:`), or undefined. */
export function urlScheme(url: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*:)/i.exec(url)?.[1]?.toLowerCase();
}

/**
 * `sqlite::memory:`, `sqlite:./rel/file.db`, `sqlite:/abs/file.db`, and the
 * `sqlite:///abs/file.db` form some tools write. Returns the path for
 * better-sqlite3 (`:memory:` for an in-memory database).
 */
export function sqlitePathFromUrl(url: string): string {
  if (!url.toLowerCase().startsWith('sqlite:')) {
    throw new Error('a SQLite storage URL must start with "sqlite:"');
  }
  let path = url.slice('sqlite:'.length);
  if (path.startsWith('//')) path = path.slice(2);
  if (path === '') throw new Error('the SQLite storage URL has no file path, e.g. sqlite:./data/warden.db');
  return path;
}

/**
 * Whether only the connection that opened the store can see it (an in-memory
 * SQLite database), so no second connection, e.g. a writer thread's, may be used.
 */
export function isPrivateToOneConnection(url: string): boolean {
  return urlScheme(url) === 'sqlite:' && sqlitePathFromUrl(url) === ':memory:';
}
