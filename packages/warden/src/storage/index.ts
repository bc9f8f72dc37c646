import type { StorageLogger } from './key-revision-listener.js';
import { PostgresStorage } from './postgres.js';
import { SqliteStorage } from './sqlite.js';
import type { Storage } from './types.js';
import { urlScheme } from './url.js';

export type {
  AuditFailureReason,
  AuditVerifyResult,
  Directory,
  EventPage,
  EventQuery,
  KeyRecord,
  MigrationStatus,
  OrgRecord,
  PolicyVersionRecord,
  ProjectRecord,
  RefreshTokenRecord,
  Role,
  RolePermissionsRecord,
  SealedRow,
  SigningSecretRecord,
  Storage,
  UserPatch,
  UserRecord,
} from './types.js';
export { ROLES } from './types.js';
export { newRun } from './traces.js';
export type { AppendOutcome, ProgressRecord, RunPage, RunQuery, RunRecord, RunStatus, SpanRecord, TraceEventInput, TraceEventRecord, TraceStore } from './traces.js';
export { StorageError, type StorageErrorCode } from './event-log.js';
export type { StorageLogger } from './key-revision-listener.js';
export { isPrivateToOneConnection, redactUrl } from './url.js';
export { WalCheckpointer, workerFile } from './checkpoints.js';
/** Column names of stored events: also the public (API, export) field names. */
export { eventToRow } from './schema.js';
export { PostgresStorage, SqliteStorage };

export interface OpenStorageOptions {
  /** Where connection trouble that does not fail a call is reported. */
  log?: StorageLogger;
  /**
   * SQLite: checkpoint the WAL on a thread of its own (checkpoints.ts) rather
   * than in whichever commit crosses the threshold. For a long-running writer
   * (the gateway); a short-lived process checkpoints when it closes.
   */
  backgroundCheckpoints?: boolean;
}

/**
 * Opens the adapter named by the URL scheme. Does not migrate: the caller
 * decides when (`warden migrate`, or at gateway start-up).
 */
export async function openStorage(url: string, options: OpenStorageOptions = {}): Promise<Storage> {
  const scheme = urlScheme(url);
  switch (scheme) {
    case 'sqlite:':
      return new SqliteStorage(url, { backgroundCheckpoints: options.backgroundCheckpoints });
    case 'postgres:':
    case 'postgresql:':
      if (url.slice(scheme.length).startsWith('//')) return new PostgresStorage(url, { log: options.log });
      break;
  }
  // Only the scheme is named: the rest of the URL may hold a password.
  const named = scheme === undefined ? 'a URL with no scheme' : `URL scheme "${scheme}"`;
  throw new Error(`unsupported storage ${named}: use sqlite:<path>, postgres:// or postgresql://`);
}
