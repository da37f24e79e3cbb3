import type { CalendarConnectionRecord, CalendarKind, CalendarStatus, WriteMode } from '../../db/calendars-repo.js';
import { formatInstant } from '../../domain/zoned-time.js';

/**
 * A connection as the API shows it: its settings (which hold the secrets) are never part of it.
 * Its own module because both the calendars use cases and the Google consent callback show it.
 */
export interface CalendarView {
  id: string;
  type: CalendarKind;
  status: CalendarStatus;
  lastSyncedAt: string | null;
  error?: string;
  writeBookings: boolean;
  writeMode: WriteMode;
  /** Google, just connected: where the provider gives consent (src/features/calendars/google-oauth.ts). */
  authorizationUrl?: string;
}

export function toCalendarView(c: CalendarConnectionRecord): CalendarView {
  return {
    id: c.id,
    type: c.type,
    status: c.status,
    lastSyncedAt: c.lastSyncedAt === null ? null : formatInstant(c.lastSyncedAt),
    ...(c.status === 'error' && c.error !== null ? { error: c.error } : {}),
    writeBookings: c.writeBookings,
    writeMode: c.writeMode,
  };
}
