import type { ErrorCode } from '../../domain/errors.js';
import { PROBLEM_CONTENT_TYPE, STATUS_OF } from '../problem.js';
import { ProblemSchema } from './common.js';

/**
 * The error answers of a route, for its response map, by code:
 *
 *   response: { 201: Booking, ...errorResponses('not_found', 'slot_taken', 'not_bookable', 'too_many_holds') }
 *
 * gives 404, 409, 422 and 429 entries, each a problem+json whose `code` the
 * OpenAPI document lists as an enum (src/http/openapi.ts), plus `default` for
 * anything else. List the codes the route's use case raises; the ones every
 * route of its kind can give (401 without a key, 400 for a bad parameter, 413
 * and 415 for a body, 429 rate limited, the Idempotency-Key codes on POST) are
 * added by documentCommonErrors, so a new route needs no more than this line.
 *
 * Serialising still uses the plain Problem shape: a code missing from the list
 * is a documentation bug (the fuzzer fails on it), never a 500.
 */
export const PROBLEM_CODES = 'x-problem-codes';

const STATUS_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed or invalid input',
  401: 'No, unknown, expired or revoked API key',
  403: 'This role may not do this',
  404: 'No such resource, or one the caller may not see',
  409: 'Conflict with the current state',
  410: 'The hold has expired',
  413: 'Body larger than 64 KiB',
  415: 'Body is not JSON',
  422: 'Well-formed but breaks a rule',
  429: 'Too many requests (with Retry-After)',
  502: 'An outside system (the provider\'s calendar) failed; nothing was changed',
  503: 'A dependency is unavailable; retry',
};

export function problemResponse(status: number, codes: readonly ErrorCode[]): Record<string, unknown> {
  const sorted = [...new Set(codes)].sort();
  return {
    description: `${STATUS_DESCRIPTIONS[status] ?? 'Error'} (code ${sorted.map((c) => `\`${c}\``).join(', ')})`,
    content: { [PROBLEM_CONTENT_TYPE]: { schema: { ...ProblemSchema, [PROBLEM_CODES]: sorted } } },
  };
}

/** Marks a response map made by errorResponses: documentCommonErrors completes it. */
export const COMMON_ERRORS = 'x-common-errors';

/** Any other error (a 503 while the database is down, a 414 for an over-long URL) is problem+json too. */
const DEFAULT_PROBLEM = {
  description: 'Any other error', content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } }, [COMMON_ERRORS]: true,
};

export function errorResponses(...codes: ErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(STATUS_OF[code], [...(byStatus.get(STATUS_OF[code]) ?? []), code]);
  const out: Record<string, unknown> = { default: DEFAULT_PROBLEM };
  for (const [status, list] of byStatus) out[status] = problemResponse(status, list);
  return out;
}

/** The codes a response entry made by problemResponse lists; null for other entries. */
export function codesOf(entry: unknown): ErrorCode[] | null {
  const schema = (entry as { content?: Record<string, { schema?: Record<string, unknown> }> } | undefined)?.content?.[PROBLEM_CONTENT_TYPE]?.schema;
  const codes = schema?.[PROBLEM_CODES];
  return Array.isArray(codes) ? (codes as ErrorCode[]) : null;
}
