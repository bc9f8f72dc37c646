export { MasterKeyError, SecretBoxError } from './errors.js';
export type { SecretBoxErrorReason } from './errors.js';
export {
  MasterKey,
  MASTER_KEY_BYTES,
  loadMasterKeys,
  parseMasterKey,
  createMasterKeyRing,
  readMasterKeyFile,
  generateMasterKey,
  deriveKey,
} from './master-key.js';
export type { MasterKeyRing, MasterKeySource, LoadMasterKeysOptions } from './master-key.js';
export { SecretBox, ENVELOPE_PREFIX } from './secret-box.js';
export { rotateMasterKey, verifySealedRecords, writeRotatedKeyFile, dropPreviousKeys } from './rotate.js';
export type {
  SealedRecord,
  SaveResealed,
  RotateOptions,
  RotationReport,
  RotationFailure,
  RotationFailureReason,
  VerificationReport,
} from './rotate.js';
