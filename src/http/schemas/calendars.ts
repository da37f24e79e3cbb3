import { Type, type Static } from 'typebox';
import { Id, Instant, named } from './common.js';

/** Connected calendars: one body shape per kind; the response never carries a URL, username or password. */
export const WriteMode = named('WriteMode', Type.Union([Type.Literal('eventual'), Type.Literal('strict')], {
  description: 'With writeBookings. eventual (default): the event is written after the confirm commits, by a worker that retries with backoff '
    + '(the booking\'s calendarSync shows progress); strict: the event is written before the confirm commits, and a failed write '
    + 'answers the confirm with 502 calendar_write_failed and leaves the booking held',
}));

const writeOptions = {
  writeBookings: Type.Optional(Type.Boolean({
    description: 'Write confirmed bookings into this calendar and remove them when cancelled (CalDAV, Google; not possible with ICS: 422). '
      + 'At most one write calendar per provider: a second is a 409',
  })),
  writeMode: Type.Optional(WriteMode),
};

// No `format` on the URL: it is parsed (http, https, webcal) and its host checked by the server, with a 400 naming body/url.
const SourceUrl = Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) or webcal URL; stored encrypted, never returned' });

export const ConnectCalendarBody = named('ConnectCalendarRequest', Type.Union([
  Type.Object(
    { type: Type.Literal('ics'), url: SourceUrl, ...writeOptions },
    { additionalProperties: false, title: 'ICS feed', description: 'An iCalendar feed URL (a "secret address" often carries a token)' },
  ),
  Type.Object(
    {
      type: Type.Literal('caldav'),
      url: SourceUrl,
      username: Type.String({ maxLength: 256 }),
      password: Type.String({ maxLength: 1024 }),
      calendarUrl: Type.Optional(SourceUrl),
      ...writeOptions,
    },
    { additionalProperties: false, title: 'CalDAV', description: 'A CalDAV account (basic auth): busy time in, and with writeBookings confirmed bookings out (PUT <calendar>/<uid>.ics). Without calendarUrl the first calendar with events is discovered from url' },
  ),
  Type.Object(
    { type: Type.Literal('google'), ...writeOptions },
    {
      additionalProperties: false,
      title: 'Google Calendar',
      description: 'The provider\'s primary Google calendar, through OAuth: the answer is "pending" with an authorizationUrl to open in a browser; '
        + 'Google sends the browser back to GET /v1/calendars/google/callback, which stores the tokens (encrypted) and reads the busy time. '
        + '503 when the server has no Google OAuth client configured',
    },
  ),
], { examples: [{ type: 'ics', url: 'https://calendar.example.com/private/abc123/basic.ics' }] }));

export const CalendarConnection = named('CalendarConnection', Type.Object({
  id: Id,
  type: Type.Union([Type.Literal('ics'), Type.Literal('caldav'), Type.Literal('google')]),
  status: Type.Union([Type.Literal('ok'), Type.Literal('error'), Type.Literal('pending')], {
    description: 'error: the last sync failed (see error); the last good busy time still counts',
  }),
  lastSyncedAt: Type.Union([Instant, Type.Null()], { description: 'The last successful sync' }),
  error: Type.Optional(Type.String({ description: 'Why the last sync failed (only with status "error")' })),
  writeBookings: Type.Boolean(),
  writeMode: WriteMode,
  authorizationUrl: Type.Optional(Type.String({
    description: 'Google, in the answer that connects it: open it in a browser to give consent (valid 10 minutes, once)',
  })),
}), 'A connected calendar (never its URL or credentials)');

export const CalendarParams = Type.Object({ providerId: Id, id: Id });

/**
 * Google's redirect after the consent screen: `code` and `state`, or `error`
 * (access_denied when the provider said no). Google adds more parameters
 * (scope, authuser, prompt...): they are allowed and ignored.
 */
export const GoogleCallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  state: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  error: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
}, { additionalProperties: true });
export type GoogleCallbackQuery = Static<typeof GoogleCallbackQuery>;

export const GoogleCallbackResult = named('GoogleCallbackResult', Type.Object({
  connected: Type.Boolean({ description: 'The tokens are stored (the first read may still have failed: see calendar.status)' }),
  message: Type.String({ description: 'In words for the person in the browser' }),
  calendar: CalendarConnection,
}, { description: 'A JSON page for the browser that comes back from Google' }));

export const CalendarFeedLink = named(
  'CalendarFeedLink',
  Type.Object({ url: Type.String(), token: Type.String({ description: 'Also works as ?token= on the feed URL' }) }),
  'The provider\'s ICS feed URL, with its token',
);
