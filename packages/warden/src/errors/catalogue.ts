/**
 * Every error a user can see, in one place: code → category, status and a
 * message written for a person. Routes and stages raise WardenError with a
 * code from here; the HTTP layer renders the one envelope.
 */
export type ErrorCategory =
  | 'authentication'
  | 'authorization'
  | 'validation'
  | 'not_found'
  | 'rate_limit'
  | 'upstream'
  | 'unavailable'
  | 'internal';

interface CatalogueEntry {
  type: ErrorCategory;
  status: number;
  message: string;
}

export const ERRORS = {
  missing_api_key: {
    type: 'authentication',
    status: 401,
    message: 'No API key was sent. Pass a Warden key as "Authorization: Bearer wdn_..." or "x-api-key: wdn_...".',
  },
  invalid_api_key: {
    type: 'authentication',
    status: 401,
    message: 'The API key is not valid. Check that you copied the whole key, or create a new one with "warden keys create".',
  },
  revoked_api_key: {
    type: 'authentication',
    status: 401,
    message: 'This API key has been revoked. Ask an administrator for a new key.',
  },
  invalid_token: {
    type: 'authentication',
    status: 401,
    message: 'The bearer token is not valid. Sign in again to get a new one.',
  },
  token_expired: {
    type: 'authentication',
    status: 401,
    message: 'The access token has expired. Refresh it with POST /auth/refresh, or sign in again.',
  },
  invalid_signature: {
    type: 'authentication',
    status: 401,
    message: 'The request signature is not valid.',
  },
  invalid_credentials: {
    type: 'authentication',
    status: 401,
    message: 'The username or password is not correct.',
  },
  account_locked: {
    type: 'authentication',
    status: 401,
    message: 'This account is locked after repeated failed sign-ins. Try again later, or ask an administrator to unlock it.',
  },
  account_disabled: {
    type: 'authentication',
    status: 401,
    message: 'This account is disabled. Ask an administrator.',
  },
  invalid_refresh_token: {
    type: 'authentication',
    status: 401,
    message: 'The refresh token is not valid or has expired. Sign in again.',
  },
  refresh_token_reused: {
    type: 'authentication',
    status: 401,
    message: 'This refresh token was already used, so every session from that sign-in has been ended as a precaution. Sign in again.',
  },
  identity_provider_unavailable: {
    type: 'unavailable',
    status: 503,
    message: 'The identity provider that issued this token cannot be reached to check it. Try again shortly.',
  },
  permission_denied: {
    type: 'authorization',
    status: 403,
    message: 'Your role does not have the permission this action needs.',
  },
  policy_denied: {
    type: 'authorization',
    status: 403,
    message: 'A policy does not allow this call.',
  },
  conflict: {
    type: 'validation',
    status: 409,
    message: 'The resource changed or already exists.',
  },
  invalid_policy: {
    type: 'validation',
    status: 400,
    message: 'The policy is not valid.',
  },
  model_not_allowed: {
    type: 'authorization',
    status: 403,
    message: 'This key may not use the requested model.',
  },
  invalid_json: {
    type: 'validation',
    status: 400,
    message: 'The request body is not valid JSON.',
  },
  invalid_request: {
    type: 'validation',
    status: 400,
    message: 'The request is not valid.',
  },
  missing_model: {
    type: 'validation',
    status: 400,
    message: 'The request body must name a "model".',
  },
  unsupported_media_type: {
    type: 'validation',
    status: 415,
    message: 'Send the request body as JSON with "Content-Type: application/json".',
  },
  body_too_large: {
    type: 'validation',
    status: 413,
    message: 'The request body is larger than this gateway accepts.',
  },
  invalid_cursor: {
    type: 'validation',
    status: 400,
    message: 'The cursor is not valid. Pass the nextCursor value from a previous page unchanged.',
  },
  not_found: {
    type: 'not_found',
    status: 404,
    message: 'There is no such endpoint.',
  },
  unknown_model: {
    type: 'not_found',
    status: 404,
    message: 'No configured provider serves this model.',
  },
  key_not_found: {
    type: 'not_found',
    status: 404,
    message: 'There is no API key with this id.',
  },
  org_not_found: { type: 'not_found', status: 404, message: 'There is no organization with this id.' },
  project_not_found: { type: 'not_found', status: 404, message: 'There is no project with this id in your organization.' },
  run_not_found: { type: 'not_found', status: 404, message: 'There is no run with this id in your organization. Create it first with POST /api/v1/runs.' },
  user_not_found: { type: 'not_found', status: 404, message: 'There is no user with this id in your organization.' },
  policy_not_found: { type: 'not_found', status: 404, message: 'There is no policy with this name in your organization.' },
  limit_not_found: { type: 'not_found', status: 404, message: 'Your organization has no limit with this name (limits from the configuration file cannot be changed here).' },
  signing_secret_not_found: { type: 'not_found', status: 404, message: 'There is no signing secret with this id in your organization.' },
  content_blocked: {
    type: 'authorization',
    status: 403,
    message: 'The request was blocked by a guardrail.',
  },
  rate_limited: {
    type: 'rate_limit',
    status: 429,
    message: 'Too many requests. Wait for the time in the Retry-After header, then try again.',
  },
  budget_exceeded: {
    type: 'rate_limit',
    status: 429,
    message: 'The spending budget for this caller is used up. Ask an administrator to raise it, or wait for it to free up.',
  },
  limits_unavailable: {
    type: 'unavailable',
    status: 503,
    message: 'Rate limits cannot be checked right now, so the call was refused. Try again shortly.',
  },
  upstream_unreachable: {
    type: 'upstream',
    status: 502,
    message: 'The upstream provider could not be reached.',
  },
  upstream_bad_response: {
    type: 'upstream',
    status: 502,
    message: 'The upstream provider closed the connection or sent a response that could not be read.',
  },
  upstream_timeout: {
    type: 'upstream',
    status: 504,
    message: 'The upstream provider did not answer in time.',
  },
  ingest_overloaded: {
    type: 'unavailable',
    status: 503,
    message: 'Warden is writing events as fast as it can and its ingest queue is full: nothing of this batch was stored. Retry after the time Retry-After gives.',
  },
  storage_unavailable: {
    type: 'unavailable',
    status: 503,
    message: 'The gateway cannot reach its storage right now. Try again shortly.',
  },
  shutting_down: {
    type: 'unavailable',
    status: 503,
    message: 'The gateway is shutting down. Retry against another instance.',
  },
  internal: {
    type: 'internal',
    status: 500,
    message: 'Something went wrong inside the gateway. The request id identifies it in the logs.',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERRORS;

/** An expected, user-facing failure. Never carries a stack to the client. */
export class WardenError extends Error {
  readonly code: ErrorCode;
  readonly type: ErrorCategory;
  readonly status: number;
  /** Response header fields that belong with this error (Retry-After on a 429). */
  headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message?: string, headers?: Record<string, string>) {
    const entry: CatalogueEntry = ERRORS[code];
    super(message ?? entry.message);
    this.name = 'WardenError';
    this.code = code;
    this.type = entry.type;
    this.status = entry.status;
    this.headers = headers;
  }
}

export interface ErrorEnvelope {
  /** Anthropic's SDK and clients expect a top-level "type":"error" on /v1/messages. */
  type?: 'error';
  error: { type: ErrorCategory; code: string; message: string; request_id: string };
}

export function envelope(err: WardenError, requestId: string, anthropic = false): ErrorEnvelope {
  const body: ErrorEnvelope = {
    error: { type: err.type, code: err.code, message: err.message, request_id: requestId },
  };
  return anthropic ? { type: 'error', ...body } : body;
}
