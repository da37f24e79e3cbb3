import type { Interval } from '../../domain/intervals.js';

/**
 * One interface for every kind of outside calendar. The app stores each
 * connection's config sealed (it holds secrets), opens it only to call its
 * provider, and never shows it.
 *
 * Busy time in is `fetchBusy`. Writing confirmed bookings out (CalDAV PUT,
 * Google events.insert) will be `writeEvent`/`removeEvent`, called by an
 * outbox worker; a provider without them is read-only (ICS).
 */
export type CalendarType = 'ics' | 'caldav' | 'google';

export interface BusyQuery {
  /** The provider's zone: all-day events cover its local days, floating times are read in it. */
  timeZone: string;
  /** Events are expanded within this range, [start, end) in epoch ms. */
  horizon: Interval;
}

export interface FetchLimits {
  allowPrivateAddresses: boolean;
  /** Overall deadline of one fetch, in ms. */
  timeoutMs: number;
  /** Aborts the fetch early (the server is shutting down). */
  signal?: AbortSignal;
}

export interface CalendarEvent {
  uid: string;
  start: number;
  end: number;
  summary: string;
}

export interface CalendarProvider<C> {
  readonly type: CalendarType;
  /**
   * Checks what a caller sent and returns the config to store, or throws
   * CalendarInputError naming the field. No network here.
   */
  parseConfig(input: Record<string, unknown>): C;
  /** Busy intervals, [start, end) epoch ms, sorted and merged. Throws CalendarSourceError. */
  fetchBusy(config: C, query: BusyQuery, limits: FetchLimits): Promise<Interval[]>;
  writeEvent?(config: C, event: CalendarEvent, limits: FetchLimits): Promise<void>;
  removeEvent?(config: C, uid: string, limits: FetchLimits): Promise<void>;
}

/** Bad input for a connection (a 400 naming `field`), found before anything is stored. */
export class CalendarInputError extends Error {
  override name = 'CalendarInputError';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/**
 * Why a source could not be read, in words safe to show its owner: never the
 * URL (it may carry a token) nor a credential. `refused` marks an address the
 * server will not contact (loopback, private): when the calendar is being
 * connected that is the caller's mistake, a 400, not a stored error.
 */
export class CalendarSourceError extends Error {
  override name = 'CalendarSourceError';
  constructor(
    message: string,
    readonly kind: 'refused' | 'unreachable' | 'http' | 'invalid' | 'too_large' | 'timeout',
    /** With kind 'http': the status the server answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}
