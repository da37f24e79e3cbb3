import { Type, type Static } from 'typebox';
import { Id, Instant, LocalDate, named, PageQuery, TimeZone } from './common.js';

/**
 * One schema per shape: these drive validation, the OpenAPI document and (through
 * Static<>) the TypeScript types of the event-types feature. Cross-field rules
 * (single exactly when one host, seats with one duration, ...) live in
 * src/domain/event-type-rules.ts, which also runs on the merged result of a PATCH.
 */
const Minutes = (min: number, max: number, extra: { multipleOf?: number; description?: string } = {}) =>
  Type.Integer({ minimum: min, maximum: max, ...extra });

export const Host = named('EventTypeHost', Type.Object(
  {
    providerId: Id,
    priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 4, default: 2, description: 'Round robin: higher first' })),
    weight: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Round robin: share of bookings' })),
  },
  { additionalProperties: false },
));

export const Assignment = Type.Union([Type.Literal('single'), Type.Literal('roundRobin'), Type.Literal('collective')]);

export const BookingWindow = named('BookingWindow', Type.Union([
  Type.Object({ type: Type.Literal('rolling'), days: Type.Integer({ minimum: 1, maximum: 730 }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('range'), start: LocalDate, end: LocalDate }, { additionalProperties: false }),
]));

export const Limits = named('Limits', Type.Object(
  {
    perDay: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    perWeek: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    perMonth: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
  },
  { additionalProperties: false, description: 'Live bookings of this type per host, counted by start in the host\'s local day / ISO week / month' },
));

export const QuestionType = Type.Union([
  Type.Literal('text'), Type.Literal('longText'), Type.Literal('email'), Type.Literal('phone'),
  Type.Literal('number'), Type.Literal('boolean'), Type.Literal('select'), Type.Literal('multiSelect'),
]);

export const Question = named('Question', Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9_]+$', description: 'Lower-case letters, digits and _' }),
    label: Type.String({ minLength: 1, maxLength: 200 }),
    type: QuestionType,
    required: Type.Optional(Type.Boolean()),
    options: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 50 })),
    maxLength: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
  },
  { additionalProperties: false },
));

/** The writable fields, each optional: a PATCH body; POST requires some of them (below). */
const writable = {
  slug: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', description: 'a-z, 0-9 and single dashes', examples: ['first-consultation'] }),
  title: Type.String({ minLength: 1, maxLength: 200, examples: ['First consultation'] }),
  description: Type.String({ maxLength: 5000 }),
  location: Type.String({ maxLength: 500 }),
  hosts: Type.Array(Host, { minItems: 1, maxItems: 50 }),
  assignment: Assignment,
  durations: Type.Array(Minutes(5, 1440, { multipleOf: 5 }), { minItems: 1, maxItems: 10, description: 'Minutes; the first is the default', examples: [[30, 60]] }),
  slotInterval: Minutes(5, 1440, { description: 'Minutes between slot starts on the host\'s local clock; a divisor of 1440' }),
  bufferBefore: Minutes(0, 240, { multipleOf: 5 }),
  bufferAfter: Minutes(0, 240, { multipleOf: 5 }),
  minimumNotice: Minutes(0, 525600),
  bookingWindow: BookingWindow,
  limits: Limits,
  requiresConfirmation: Type.Boolean(),
  seats: Type.Integer({ minimum: 1, maximum: 1000 }),
  clientMayOverlap: Type.Boolean({
    description: 'Default false: a client (or guest email) cannot hold a live booking of this type that overlaps another of its live bookings (409 client_overlap)',
  }),
  cancellationNotice: Minutes(0, 525600),
  questions: Type.Array(Question, { maxItems: 30 }),
  public: Type.Boolean(),
  active: Type.Boolean(),
};

type Writable = typeof writable;
const optional = <K extends keyof Writable>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, Type.Optional(writable[k])])) as { [P in K]: ReturnType<typeof Type.Optional<Writable[P]>> };

const OPTIONAL_ON_CREATE = [
  'description', 'location', 'hosts', 'assignment', 'slotInterval', 'bufferBefore', 'bufferAfter', 'minimumNotice',
  'bookingWindow', 'limits', 'requiresConfirmation', 'seats', 'clientMayOverlap', 'cancellationNotice', 'questions', 'public', 'active',
] as const;

export const CreateEventTypeBody = named('CreateEventTypeRequest', Type.Object(
  { slug: writable.slug, title: writable.title, durations: writable.durations, ...optional(OPTIONAL_ON_CREATE) },
  {
    additionalProperties: false,
    description: 'hosts defaults to the calling provider; assignment to "single" with one host',
    examples: [{ slug: 'first-consultation', title: 'First consultation', durations: [30, 60], bufferAfter: 10, minimumNotice: 240 }],
  },
));
export type CreateEventTypeBody = Static<typeof CreateEventTypeBody>;

export const PatchEventTypeBody = named('UpdateEventTypeRequest', Type.Object(optional(Object.keys(writable) as (keyof Writable)[]), {
  additionalProperties: false,
  minProperties: 1,
  examples: [{ durations: [30], active: false }],
}));
export type PatchEventTypeBody = Static<typeof PatchEventTypeBody>;

export const HostView = Type.Object({
  providerId: Id,
  priority: Type.Integer(),
  weight: Type.Integer(),
  name: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  timeZone: Type.Optional(TimeZone),
});

export const EventType = named('EventType', Type.Object({
  id: Id,
  slug: writable.slug,
  title: Type.String(),
  description: Type.Optional(Type.String()),
  location: Type.Optional(Type.String()),
  hosts: Type.Array(HostView),
  assignment: Assignment,
  durations: Type.Array(Type.Integer()),
  slotInterval: Type.Integer(),
  bufferBefore: Type.Integer(),
  bufferAfter: Type.Integer(),
  minimumNotice: Type.Integer(),
  bookingWindow: Type.Optional(BookingWindow),
  limits: Type.Optional(Limits),
  requiresConfirmation: Type.Boolean(),
  seats: Type.Integer(),
  clientMayOverlap: Type.Boolean(),
  cancellationNotice: Type.Integer(),
  questions: Type.Array(Question),
  public: Type.Boolean(),
  active: Type.Boolean(),
  createdAt: Instant,
  updatedAt: Instant,
}), 'A service clients book');
export type EventType = Static<typeof EventType>;

export const EventTypeSlugParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64, description: 'The event type\'s slug', examples: ['first-consultation'] }) });

export const EventTypeListQuery = Type.Object({ providerId: Type.Optional(Id), ...PageQuery });
