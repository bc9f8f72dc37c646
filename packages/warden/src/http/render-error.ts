import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { WardenError, envelope } from '../errors/index.js';
import { rpcStatus } from '../otlp/index.js';

/** gRPC status codes for an OTLP/HTTP error body (google.rpc.Status), by HTTP status. */
function grpcCode(status: number): number {
  if (status === 400 || status === 413 || status === 415) return 3; // INVALID_ARGUMENT
  if (status === 401) return 16; // UNAUTHENTICATED
  if (status === 403) return 7; // PERMISSION_DENIED
  if (status === 404) return 5; // NOT_FOUND
  if (status === 429) return 8; // RESOURCE_EXHAUSTED
  if (status === 503 || status === 502 || status === 504) return 14; // UNAVAILABLE
  return 13; // INTERNAL
}

export const isProtobuf = (request: FastifyRequest): boolean => (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/x-protobuf';

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
  const config = request.warden?.config ?? request.routeOptions.config;
  const anthropic = config?.anthropic === true;
  if (w.headers) reply.headers(w.headers);
  if (w.status === 401 && !anthropic) reply.header('www-authenticate', 'Bearer realm="warden"');
  // OTLP/HTTP: the error is a google.rpc.Status in the request's encoding (JSON keeps the envelope beside it).
  if (config?.otlp === true) {
    if (isProtobuf(request)) return reply.code(w.status).type('application/x-protobuf').send(rpcStatus(grpcCode(w.status), w.message));
    return reply.code(w.status).type('application/json').send({ code: grpcCode(w.status), message: w.message, ...envelope(w, request.id) });
  }
  return reply.code(w.status).type('application/json').send(envelope(w, request.id, anthropic));
}
