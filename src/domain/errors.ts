/**
 * The error catalogue. Domain and app code raise a stable code; only the HTTP
 * layer (src/http/problem.ts) knows which status each code maps to. Clients
 * may match on `code` (it is sent as an extension member of problem+json);
 * nobody should match on message text.
 */
export const ERROR_CATALOGUE = {
  invalid_request: 'The request is not valid',
  invalid_json: 'The body is not valid JSON',
  unauthenticated: 'Authentication required',
  forbidden: 'Not allowed',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  email_taken: 'Email already registered',
  slug_taken: 'Another event type already has this slug',
  slot_taken: 'The time is already taken',
  already_booked: 'The client (or guest email) already has a seat at this time',
  client_overlap: 'The client already has a booking at an overlapping time',
  state_conflict: 'The resource is not in a state that allows this',
  idempotency_in_flight: 'A request with this idempotency key is in progress',
  hold_expired: 'The hold has expired',
  payload_too_large: 'The body is too large',
  unsupported_media_type: 'Unsupported media type',
  not_bookable: 'The time cannot be booked',
  idempotency_key_reused: 'Idempotency key reused with a different request',
  not_supported: 'Not supported yet',
  limit_reached: 'A booking limit of the event type is reached',
  too_late_to_change: 'Too late to change this booking',
  rate_limited: 'Too many requests',
  too_many_holds: 'Too many unconfirmed holds',
  too_many_bookings: 'Too many upcoming bookings',
  quota_exceeded: 'A per-user limit is reached',
  request_timeout: 'The request took too long to arrive',
  headers_too_large: 'The request headers are too large',
  oidc_state_invalid: 'The sign-in is unknown, already finished or expired',
  oidc_denied: 'The issuer did not sign the user in',
  oidc_rejected: 'The issuer\'s answer was refused',
  oidc_email_unverified: 'The issuer has not verified the email address',
  calendar_write_failed: 'The booking could not be written to the provider\'s calendar',
  unavailable: 'Service unavailable',
  internal: 'Internal server error',
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    /** For errors that pass with time (429, 503): seconds after which a retry may succeed (`Retry-After`). */
    readonly retryAfterSeconds?: number,
    /** Extra members of the problem (RFC 9457 extensions), e.g. `bookingIds` of a refused deletion. */
    readonly extensions?: Record<string, unknown>,
  ) {
    super(detail);
    this.name = 'AppError';
  }
}

/**
 * A 400 naming bad fields, its detail naming the first. Use cases name fields
 * in their own terms ('duration', 'answers/reason', 'hosts/0/providerId');
 * the HTTP layer says where they were sent (src/http/field-locations.ts):
 * 'duration' becomes 'body/duration' or 'query/duration', detail included.
 */
export class InvalidFieldsError extends AppError {
  constructor(errors: [FieldError, ...FieldError[]]) {
    super('invalid_request', `${errors[0].path}: ${errors[0].message}`, errors);
  }

  /** The same error with each path passed through `locate`. */
  located(locate: (path: string) => string): InvalidFieldsError {
    const [first, ...rest] = this.errors as [FieldError, ...FieldError[]];
    const at = (e: FieldError) => ({ path: locate(e.path), message: e.message });
    return new InvalidFieldsError([at(first), ...rest.map(at)]);
  }
}

/** A 400 for one bad field, the most common case. */
export function invalidField(path: string, message: string): AppError {
  return new InvalidFieldsError([{ path, message }]);
}

/** A 400 for several bad fields at once (an empty list is a programming error). */
export function invalidFields(errors: readonly FieldError[]): AppError {
  const [first, ...rest] = errors;
  if (!first) throw new Error('invalidFields needs at least one field');
  return new InvalidFieldsError([first, ...rest]);
}
