// Test helper (not a test): shared by the identity module's unit tests.
import { IdentityFailure, type IdentityFailureReason } from './failure.js';

/** The IdentityFailure reason a verification ends with, or 'accepted'; anything else is rethrown. */
export async function failureReason(p: Promise<unknown>): Promise<IdentityFailureReason | 'accepted'> {
  try {
    await p;
  } catch (err) {
    if (err instanceof IdentityFailure) return err.reason;
    throw err;
  }
  return 'accepted';
}

/** base64url of a value's JSON, for hand-built JWT parts. */
export function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
