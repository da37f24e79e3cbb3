import type { BookingRecord } from '../../db/bookings-repo.js';
import {
  enqueuePut,
  enqueueRemoval,
  findWriteCalendar,
  leaseForStrictWrite,
  releaseStrictWrite,
  settleStrictWrite,
  writeStatesOf,
  type WriteAction,
  type WriteState,
} from '../../db/calendar-writes-repo.js';
import { findConnection, type CalendarKind } from '../../db/calendars-repo.js';
import type { Queryable } from '../../db/database.js';
import { findUserById } from '../../db/users-repo.js';
import { AppError } from '../../domain/errors.js';
import { calendarProviderFor, CalendarSourceError } from '../../integrations/calendars/index.js';
import { failureReason, openConfig } from './calendar-sync.js';
import type { AppContext } from '../context.js';

/**
 * Bookings out: a confirmed booking appears in the provider's write calendar
 * (the one connected with writeBookings) and disappears when cancelled.
 *
 * - eventual (default): the confirm or cancel writes the wanted state into the
 *   calendar_writes outbox in its own transaction; the worker
 *   (calendar-write-worker.ts) carries it out and retries with backoff.
 * - strict: the event is PUT before the confirm commits, outside any
 *   transaction (a network call must not hold row locks). A failed write is a
 *   502 and the booking stays held; a confirm that fails after the write (the
 *   hold expired meanwhile: 410) leaves a pending removal, so no event stays
 *   behind. See leaseForStrictWrite for the crash case.
 *
 * A booking shows `calendarSync` once it has been confirmed while its provider
 * had a write calendar (`error` only to the provider and admins: it names
 * their calendar server):
 *   pending  the calendar does not show the booking's state yet (queued, or
 *            being retried: `error` says why the last attempt failed)
 *   synced   the event is in the calendar
 *   removed  the booking was cancelled and its event removed (or never written)
 *   failed   the worker gave up after its last attempt (`error`)
 */
export type CalendarSyncStatus = 'pending' | 'synced' | 'removed' | 'failed';

export interface CalendarSyncView {
  status: CalendarSyncStatus;
  error?: string;
}

/** The extra time a lease lasts beyond one write's timeout. */
export const LEASE_MARGIN_MS = 30_000;

/** The event's UID (and its resource name): stable per booking, the same as in the ICS feed. */
export const bookingEventUid = (bookingId: string) => `${bookingId}@booking-engine`;

export function toCalendarSync(state: WriteState): CalendarSyncView {
  const status: CalendarSyncStatus = state.status === 'failed' ? 'failed'
    : state.status === 'pending' ? 'pending'
      : state.action === 'put' ? 'synced' : 'removed';
  return { status, ...(status !== 'synced' && status !== 'removed' && state.lastError !== null ? { error: state.lastError } : {}) };
}

/** calendarSync of each booking that has one (only bookings that were confirmed show it). */
export async function calendarSyncOf(q: Queryable, bookings: readonly BookingRecord[]): Promise<Map<string, CalendarSyncView>> {
  const confirmed = bookings.filter((b) => b.confirmedAt !== null).map((b) => b.id);
  const states = await writeStatesOf(q, confirmed);
  return new Map([...states].map(([id, state]) => [id, toCalendarSync(state)]));
}

/** A write one attempt carries out: the worker's claimed row, or a strict confirm's PUT. */
export interface WriteJob {
  bookingId: string;
  action: WriteAction;
  connectionId: string;
  connectionType: CalendarKind;
  configCiphertext: string;
  start: number;
  end: number;
  clientName: string;
}

/** PUTs or removes the booking's event. Throws CalendarSourceError (or a config/secret error) on failure. */
export async function performWrite(ctx: AppContext, job: WriteJob, signal?: AbortSignal): Promise<void> {
  const source = calendarProviderFor(job.connectionType);
  if (!source?.writeEvent || !source.removeEvent) {
    throw new CalendarSourceError(`${job.connectionType} calendars cannot be written by this server`, 'invalid');
  }
  const config = openConfig(ctx, { id: job.connectionId, type: job.connectionType, configCiphertext: job.configCiphertext });
  const limits = {
    allowPrivateAddresses: ctx.config.calendarAllowPrivateUrls,
    timeoutMs: ctx.config.calendarWriteTimeoutMs,
    ...(signal ? { signal } : {}),
  };
  const uid = bookingEventUid(job.bookingId);
  if (job.action === 'delete') return source.removeEvent(config, uid, limits);
  return source.writeEvent(config, { uid, start: job.start, end: job.end, summary: `Booking with ${job.clientName}` }, limits);
}

/** What a strict confirm wrote before committing: the lease it holds on the booking's outbox row. */
export interface StrictWrite {
  connectionId: string;
  version: number;
}

/**
 * Strict mode, before the confirm's transaction: writes the event of a held
 * booking and returns the lease, or null when the provider has no strict write
 * calendar. A failed write is an AppError('calendar_write_failed'): nothing
 * is confirmed, and the worker removes whatever the failed attempt may have left.
 */
export async function writeBeforeConfirm(ctx: AppContext, booking: BookingRecord): Promise<StrictWrite | null> {
  const calendar = await findWriteCalendar(ctx.db, booking.providerId);
  if (!calendar || calendar.writeMode !== 'strict') return null;
  const connection = await findConnection(ctx.db, null, calendar.id);
  const client = booking.clientId === null ? booking.guest : await findUserById(ctx.db, booking.clientId);
  if (!connection || !client) return null;
  const version = await leaseForStrictWrite(ctx.db, booking.id, calendar.id, ctx.config.calendarWriteTimeoutMs + LEASE_MARGIN_MS);
  if (version === null) {
    throw new AppError('state_conflict', 'This booking is being written to the provider\'s calendar by another request; retry in a few seconds.');
  }
  try {
    await performWrite(ctx, {
      bookingId: booking.id,
      action: 'put',
      connectionId: connection.id,
      connectionType: connection.type,
      configCiphertext: connection.configCiphertext,
      start: booking.start,
      end: booking.end,
      clientName: client.name,
    });
  } catch (error) {
    await releaseStrictWrite(ctx.db, booking.id, calendar.id, version, failureReason(error));
    ctx.metrics.calendarWrites.labels('strict_failed').inc();
    // The caller is the client: the reason in words that do not show the provider's calendar server.
    throw new AppError(
      'calendar_write_failed',
      `The booking could not be written to the provider's calendar (${(error instanceof CalendarSourceError && CLIENT_REASON[error.kind]) || 'an unexpected error'}), `
        + 'so it was not confirmed; it is still held: retry the confirmation.',
    );
  }
  ctx.metrics.calendarWrites.labels('written').inc();
  return { connectionId: calendar.id, version };
}

const CLIENT_REASON: Record<string, string> = {
  http: 'the calendar answered with an error',
  timeout: 'the calendar did not answer in time',
  unreachable: 'the calendar could not be reached',
  refused: 'the calendar\'s address is not allowed',
  invalid: 'the calendar answered something unexpected',
  too_large: 'the calendar answered something unexpected',
};

/** Strict mode, when the confirm did not commit after the write: the event is removed by the worker. */
export async function undoStrictWrite(ctx: AppContext, bookingId: string, strict: StrictWrite, why: string): Promise<void> {
  await releaseStrictWrite(ctx.db, bookingId, strict.connectionId, strict.version, why);
}

/**
 * In the confirming transaction: the strict write is settled, or (eventual)
 * the put is queued. A strict write whose lease was lost (it outlived its
 * lease, and the worker took the row to remove the event) fails the confirm.
 */
export async function recordConfirmWrite(tx: Queryable, booking: BookingRecord, strict: StrictWrite | null): Promise<void> {
  // Every host's write calendar gets the event (a collective booking appears in each); strict mode is the first host's.
  for (const hostId of booking.hostIds) {
    const calendar = await findWriteCalendar(tx, hostId);
    if (!calendar) continue;
    if (strict && strict.connectionId === calendar.id) {
      if (await settleStrictWrite(tx, booking.id, calendar.id, strict.version)) continue;
      throw new AppError('calendar_write_failed', 'Writing the booking to the provider\'s calendar took too long; it is still held: retry the confirmation.');
    }
    await enqueuePut(tx, booking.id, calendar.id);
  }
}

/** In the cancelling transaction of a confirmed booking: its event should go. */
export async function recordCancelWrite(tx: Queryable, bookingId: string): Promise<void> {
  await enqueueRemoval(tx, bookingId);
}
