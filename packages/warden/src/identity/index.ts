export { KeyAuthenticator, extractToken } from './authenticator.js';
export type { AuthFailureReason } from './authenticator.js';
export { newKey, hashKey, publicKey, KEY_PREFIX } from './keys.js';
export type { NewKey } from './keys.js';
export { ModelMatcher, globToRegExp, isGlob, keyAllowsModel } from './models.js';
