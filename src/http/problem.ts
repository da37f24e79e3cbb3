import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CATALOGUE, InvalidFieldsError, type ErrorCode, type FieldError } from '../domain/errors.js';
import { fieldLocator } from './field-locations.js';
import { readableErrors } from './validation-messages.js';

/** The only place that knows which HTTP status each error code means. */
export const STATUS_OF: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_json: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  email_taken: 409,
  slug_taken: 409,
  already_booked: 409,
  client_overlap: 409,
  slot_taken: 409,
  state_conflict: 409,
  idempotency_in_flight: 409,
  hold_expired: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_bookable: 422,
  limit_reached: 422,
  too_late_to_change: 422,
  idempotency_key_reused: 422,
  not_supported: 422,
  rate_limited: 429,
  too_many_holds: 429,
  too_many_bookings: 409,
  quota_exceeded: 409,
  request_timeout: 408,
  headers_too_large: 431,
  oidc_state_invalid: 400,
  oidc_denied: 401,
  oidc_rejected: 401,
  oidc_email_unverified: 403,
  calendar_write_failed: 502,
  unavailable: 503,
  internal: 500,
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemOf(code: ErrorCode, detail: string, errors?: FieldError[]): Problem {
  return {
    type: `urn:booking-engine:problem:${code}`,
    title: ERROR_CATALOGUE[code],
    status: STATUS_OF[code],
    detail,
    code,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

// Fastify's own errors carry a status but no catalogue code: translate the ones a client can cause.
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_BAD_URL: 'invalid_request',
  FST_ERR_ASYNC_CONSTRAINT: 'invalid_request',
};

// Errors that mean the database is unreachable: the request may succeed later, so 503, not 500.
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '08006', '08001', '08003']);

// Errors the database raises for text a client sent (U+0000, which PostgreSQL text cannot hold): bad input, so 400.
const BAD_TEXT_SQLSTATES = new Set(['22021', '22P05']);

const DEACTIVATED_PROVIDER_SQLSTATE = 'BK404';

function validationErrors(error: FastifyError): FieldError[] {
  const location = error.validationContext === 'querystring' ? 'query' : (error.validationContext ?? 'body');
  return readableErrors(error.validation ?? []).map((v) => {
    const missing = (v.params as { missingProperty?: string } | undefined)?.missingProperty;
    const extra = (v.params as { additionalProperty?: string } | undefined)?.additionalProperty;
    const pointer = v.instancePath + (missing ? `/${missing}` : extra ? `/${extra}` : '');
    const message = extra ? 'is not a known field' : (v.message ?? 'is invalid');
    return { path: `${location}${pointer}`, message };
  });
}

export function toProblem(error: unknown): Problem {
  if (error instanceof AppError) return { ...error.extensions, ...problemOf(error.code, error.detail, error.errors) };
  const fe = error as FastifyError;
  if (fe?.validation) {
    const errors = validationErrors(fe);
    const first = errors[0];
    return problemOf('invalid_request', first ? `${first.path} ${first.message}` : 'The request is not valid.', errors);
  }
  if (typeof fe?.code === 'string' && FASTIFY_CODES[fe.code]) {
    const code = FASTIFY_CODES[fe.code]!;
    const detail = code === 'payload_too_large' ? 'The body is larger than 64 KiB.' : fe.message;
    return problemOf(code, detail);
  }
  // Raised by a trigger (src/db/migrations/008_api_complete.sql): a hold racing its provider's deactivation.
  if (fe?.code === DEACTIVATED_PROVIDER_SQLSTATE) return problemOf('not_found', 'No such provider (it has been deactivated).');
  if (typeof fe?.code === 'string' && BAD_TEXT_SQLSTATES.has(fe.code)) {
    return problemOf('invalid_request', 'The request contains text that cannot be stored (such as the character U+0000).');
  }
  if (typeof fe?.code === 'string' && UNAVAILABLE_ERRNOS.has(fe.code)) {
    return problemOf('unavailable', 'The database is not reachable; retry shortly.');
  }
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { ...problemOf('invalid_request', fe.message), status: fe.statusCode };
  }
  return problemOf('internal', 'Something went wrong on our side.');
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.status === 401) reply.header('WWW-Authenticate', 'Bearer');
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  // Use cases name fields in their own terms; the route's schema says where each was sent (body/, query/, params/).
  const problem = toProblem(error instanceof InvalidFieldsError ? error.located(fieldLocator(request.routeOptions?.schema)) : error);
  if (error instanceof AppError && error.retryAfterSeconds !== undefined) {
    reply.header('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  }
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, problem);
}
