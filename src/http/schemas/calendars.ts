import { Type } from 'typebox';
import { Id, Instant } from './common.js';

/** Connected calendars: one body shape per kind; the response never carries a URL, username or password. */
export const WriteMode = Type.Union([Type.Literal('eventual'), Type.Literal('strict')], {
  description: 'eventual: written after the confirm commits, retried; strict: written before it commits (not supported yet)',
});

const writeOptions = {
  writeBookings: Type.Optional(Type.Boolean({ description: 'Write confirmed bookings into this calendar (not possible with ICS)' })),
  writeMode: Type.Optional(WriteMode),
};

// No `format` on the URL: it is parsed (http, https, webcal) and its host checked by the server, with a 400 naming body/url.
const SourceUrl = Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) or webcal URL; stored encrypted, never returned' });

export const ConnectCalendarBody = Type.Union([
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
    { additionalProperties: false, title: 'CalDAV', description: 'A CalDAV account (basic auth), busy time in only: writeBookings is a 422 not_supported. Without calendarUrl the first calendar with events is discovered from url' },
  ),
  Type.Object(
    { type: Type.Literal('google'), ...writeOptions },
    { additionalProperties: false, title: 'Google Calendar', description: 'Not supported yet: 422 not_supported' },
  ),
]);

export const CalendarConnection = Type.Object({
  id: Id,
  type: Type.Union([Type.Literal('ics'), Type.Literal('caldav'), Type.Literal('google')]),
  status: Type.Union([Type.Literal('ok'), Type.Literal('error'), Type.Literal('pending')], {
    description: 'error: the last sync failed (see error); the last good busy time still counts',
  }),
  lastSyncedAt: Type.Union([Instant, Type.Null()], { description: 'The last successful sync' }),
  error: Type.Optional(Type.String({ description: 'Why the last sync failed (only with status "error")' })),
  writeBookings: Type.Boolean(),
  writeMode: WriteMode,
});

export const CalendarParams = Type.Object({ providerId: Id, id: Id });
