import { Type, type TSchema } from 'typebox';

/** Shapes shared by many routes. Each is defined once and reused by name. */

/** The OpenAPI component a schema is published as (src/http/openapi.ts moves it to components/schemas). */
export const COMPONENT = 'x-component';

/**
 * Names a shape for the OpenAPI document: wherever it is used, the document
 * has `$ref: '#/components/schemas/<name>'`, so an SDK gets one `Booking` type.
 * Validation and serialisation are unchanged.
 */
export function named<T extends TSchema>(name: string, schema: T, description?: string): T {
  return Object.assign(schema, { [COMPONENT]: name }, description === undefined ? {} : { description });
}

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

/** A page of a list; a page of a named item is itself named: BookingPage. */
export function PageOf<T extends TSchema>(item: T) {
  const name = (item as Record<string, unknown>)[COMPONENT];
  const page = Type.Object(
    {
      data: Type.Array(item),
      nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null on the last' }),
    },
    { description: typeof name === 'string' ? `A page of ${name} items, in order` : 'A page of items, in order' },
  );
  return typeof name === 'string' ? named(`${name}Page`, page) : page;
}

export const ProblemSchema = named('Problem', Type.Object(
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
));

export const Security: { [scheme: string]: string[] }[] = [{ bearerAuth: [] }, { apiKeyQuery: [] }];
/** The routes a guest's manage token opens (its one booking): an API key, or the token as Bearer or ?token=. */
export const KeyOrManageToken: { [scheme: string]: string[] }[] = [...Security, { manageToken: [] }];
export const ManageTokenQuery = Type.Object({
  token: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'A guest\'s manage token (or send it as Authorization: Bearer)' })),
});
