import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { WardenError, envelope } from '../errors/index.js';

/** Map anything thrown to a catalogue error. Unknown errors become `internal`, logged, never echoed. */
export function toWardenError(err: unknown, logger: Logger, requestId: string): WardenError {
  if (err instanceof WardenError) return err;
  const e = err as Partial<FastifyError> & { code?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new WardenError('body_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new WardenError('unsupported_media_type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new WardenError('invalid_json');
    case 'FST_ERR_VALIDATION':
      return new WardenError('invalid_request', `The request is not valid: ${e.message ?? 'bad parameters'}.`);
    case 'invalid_cursor':
      return new WardenError('invalid_cursor');
  }
  if (e.statusCode === 400 && err instanceof SyntaxError) return new WardenError('invalid_json');
  if (e.statusCode === 413) return new WardenError('body_too_large');
  logger.error({ err, requestId }, 'unhandled error');
  return new WardenError('internal');
}

export function renderError(err: unknown, request: FastifyRequest, reply: FastifyReply, logger: Logger): FastifyReply {
  const w = toWardenError(err, logger, request.id);
  const d = request.warden?.draft;
  if (d) {
    d.errorType ??= w.type;
    d.errorCode ??= w.code;
  }
  const anthropic = (request.warden?.config ?? request.routeOptions.config)?.anthropic === true;
  if (w.headers) reply.headers(w.headers);
  if (w.status === 401 && !anthropic) reply.header('www-authenticate', 'Bearer realm="warden"');
  return reply.code(w.status).type('application/json').send(envelope(w, request.id, anthropic));
}
