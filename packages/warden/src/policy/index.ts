export { denialCause, PolicyEngine } from './engine.js';
export type { LoadResult, PolicyEngineOptions, PolicyEngineStats } from './engine.js';
export { PolicyFiles } from './files.js';
export type { PolicyFilesListener, PolicyFilesOptions, PolicyFilesSnapshot } from './files.js';
export { WARDEN_CEDAR_SCHEMA, ACTION_RESOURCE } from './schema.js';
export type { PrincipalType, ResourceType } from './schema.js';
export { defaultPolicies, DEFAULT_ALLOWED_ROLES } from './defaults.js';
export type {
  AuthzContext,
  AuthzDecision,
  AuthzPrincipal,
  AuthzRequest,
  AuthzResource,
  PolicyDocument,
  PolicyEngineHooks,
  ValidationIssue,
} from './types.js';
