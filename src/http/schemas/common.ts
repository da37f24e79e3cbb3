import { Type, type TSchema } from 'typebox';
import { PROBLEM_CONTENT_TYPE } from '../problem.js';

/** Shapes shared by many routes. Each is defined once and reused by name. */
export const Instant = Type.String({
  format: 'date-time',
  // Stricter than date-time alone (which allows a space for the T): exactly what the server parses.
  pattern: '^\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([Zz]|[+-]\\d{2}:\\d{2})$',
  description: 'RFC 3339 instant with an offset, e.g. 2027-03-01T09:00:00Z',
  examples: ['2027-03-01T09:00:00Z'],
});
export const LocalDate = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}$',
  description: 'A local calendar date, YYYY-MM-DD',
  examples: ['2027-03-01'],
});
export const ClockTime = Type.String({
  pattern: '^\\d{2}:\\d{2}$',
  description: 'Local wall-clock time HH:MM (24 h); "24:00" allowed as an end',
  examples: ['09:00'],
});
export const TimeZone = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'IANA time zone name',
  examples: ['Europe/Berlin'],
});
export const Id = Type.String({ minLength: 1, maxLength: 64, description: 'Opaque id' });
/** An id with its own description (what it refers to). */
export const IdOf = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });

export const IdParams = Type.Object({ id: Id });
export const ProviderParams = Type.Object({ providerId: Id });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
};

export function PageOf<T extends TSchema>(item: T) {
  return Type.Object({ data: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    bookingIds: Type.Optional(Type.Array(Type.String(), { description: 'The live bookings that block a deletion (409)' })),
  },
  { description: 'RFC 9457 problem details' },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed or invalid input',
  401: 'No, unknown, expired or revoked API key',
  403: 'This role may not do this',
  404: 'No such resource, or one the caller may not see',
  409: 'Conflict with the current state',
  410: 'The hold has expired',
  413: 'Body larger than 64 KiB',
  415: 'Body is not JSON',
  422: 'Well-formed but breaks a booking rule',
  429: 'Too many requests (with Retry-After)',
  502: 'An outside system (the provider\'s calendar) failed; nothing was changed',
  503: 'A dependency (the database) is unavailable; retry',
};

/**
 * problem+json responses for the listed statuses, for a route's response map,
 * plus `default`: any other error (a 400 for a malformed path or header, a 414
 * for an over-long URL, a 503 while the database is down) is problem+json too.
 */
export function problems(...statuses: number[]): Record<number | string, unknown> {
  const out: Record<number | string, unknown> = {
    default: { description: 'Any other error', content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } } },
  };
  for (const status of statuses) {
    out[status] = {
      description: ERROR_DESCRIPTIONS[status] ?? 'Error',
      content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
    };
  }
  return out;
}

export const Security: { [scheme: string]: string[] }[] = [{ bearerAuth: [] }, { apiKeyQuery: [] }];
