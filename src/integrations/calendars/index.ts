import { caldavProvider } from './caldav-provider.js';
import { googleProvider } from './google-provider.js';
import { icsProvider } from './ics-provider.js';
import type { CalendarProvider, CalendarType } from './provider.js';

export * from './provider.js';

/**
 * The calendar kinds this server can connect. A kind in the API's vocabulary
 * (and the database's) without a provider here is a 422 "not supported yet".
 * Adding one is adding it here.
 */
const PROVIDERS: Partial<Record<CalendarType, CalendarProvider<unknown>>> = {
  ics: icsProvider as CalendarProvider<unknown>,
  caldav: caldavProvider as CalendarProvider<unknown>,
  google: googleProvider as CalendarProvider<unknown>,
};

export function calendarProviderFor(type: CalendarType): CalendarProvider<unknown> | null {
  return PROVIDERS[type] ?? null;
}
