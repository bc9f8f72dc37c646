/**
 * The two ways secrets at rest fail. Neither message ever carries a key,
 * a plaintext or an envelope: these errors end up in logs and on terminals.
 */

/** The master key is missing or unusable: the CLI exits with code 2 and prints `message`, as for ConfigError. */
export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

export type SecretBoxErrorReason = 'malformed' | 'unknown_key' | 'tampered';

/** A stored envelope could not be opened. `keyId` names the sealing key when the envelope was readable enough to say. */
export class SecretBoxError extends Error {
  readonly reason: SecretBoxErrorReason;
  readonly keyId: string | undefined;

  constructor(reason: SecretBoxErrorReason, message: string, keyId?: string) {
    super(message);
    this.name = 'SecretBoxError';
    this.reason = reason;
    this.keyId = keyId;
  }
}
