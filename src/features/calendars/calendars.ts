import {
  countConnections,
  deleteConnection,
  findConnection,
  insertConnection,
  listConnections,
  type CalendarKind,
  type WriteMode,
} from '../../db/calendars-repo.js';
import { findWriteCalendar } from '../../db/calendar-writes-repo.js';
import { SQLSTATE, sqlState, type Queryable } from '../../db/database.js';
import { bumpAvailabilityVersion } from '../../db/users-repo.js';
import { AppError, invalidField } from '../../domain/errors.js';
import { calendarProviderFor, CalendarInputError, CalendarSourceError } from '../../integrations/calendars/index.js';
import { checkHost } from '../../integrations/calendars/host-check.js';
import { parseSourceUrl } from '../../integrations/calendars/safe-fetch.js';
import {
  applyOutcome,
  failureReason,
  FIRST_SYNC_TIMEOUT_MS,
  fetchBusyNow,
  syncConnection,
  type ErrorSink,
  type SyncOutcome,
} from './calendar-sync.js';
import { toCalendarView, type CalendarView } from './calendar-view.js';
import type { AppContext, Principal } from '../context.js';
import { sealSecret } from '../../platform/crypto/encryption.js';
import { requireGoogleClient } from './google-client.js';
import { startGoogleAuthorization } from './google-oauth.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../platform/pagination.js';
import { providerTimeZone, requireProviderAccess } from '../availability/providers.js';
import { newId } from '../../platform/crypto/secrets.js';

export const MAX_CALENDARS_PER_PROVIDER = 20;

export interface ConnectCalendarInput extends Record<string, unknown> {
  type: CalendarKind;
  writeBookings?: boolean;
  writeMode?: WriteMode;
}

/**
 * Connects a calendar and reads it once, inline (FIRST_SYNC_TIMEOUT_MS). A
 * source that fails now is still connected, with status "error" and the
 * reason, and is retried in the background; one the server refuses to contact
 * (a loopback or private address) is a 400 and nothing is stored. A Google
 * calendar is not read here: it stays "pending" and the answer carries the
 * authorizationUrl of its consent (src/features/calendars/google-oauth.ts).
 */
export async function connectCalendar(
  ctx: AppContext,
  caller: Principal,
  providerId: string,
  input: ConnectCalendarInput,
  onError?: ErrorSink,
): Promise<CalendarView> {
  const owner = await requireProviderAccess(ctx.db, caller, providerId);
  const source = calendarProviderFor(input.type);
  if (!source) {
    throw new AppError('not_supported', `"${input.type}" calendars are not supported by this server yet; connect an ICS feed ({ "type": "ics", "url": ... }).`);
  }
  let config: unknown;
  try {
    config = source.parseConfig(input);
  } catch (error) {
    if (error instanceof CalendarInputError) throw invalidField(error.field, error.message);
    throw error;
  }
  await refuseForbiddenHosts(ctx, input);
  const google = input.type === 'google' ? requireGoogleClient(ctx.config) : null;
  const writeBookings = input.writeBookings ?? false;
  if (writeBookings && !source.writeEvent) {
    throw new AppError('not_supported', `A "${input.type}" calendar is read-only: writeBookings is not possible with it.`);
  }
  if (writeBookings) await ensureNoWriteCalendar(ctx.db, providerId);
  const key = ctx.config.encryptionKey;
  if (!key) {
    throw new AppError('unavailable', 'ENCRYPTION_KEY is not set on this server, so calendar settings cannot be stored encrypted. '
      + 'Set ENCRYPTION_KEY (32 bytes as base64 or 64 hex characters) and restart.');
  }
  if ((await countConnections(ctx.db, providerId)) >= MAX_CALENDARS_PER_PROVIDER) {
    throw new AppError('state_conflict', `A provider can connect at most ${MAX_CALENDARS_PER_PROVIDER} calendars.`);
  }

  // A Google calendar has nothing to read before its provider's consent: it stays "pending" (src/features/calendars/google-oauth.ts).
  let outcome: SyncOutcome | null = null;
  try {
    const timeZone = await providerTimeZone(ctx.db, owner);
    if (!google) outcome = { busy: await fetchBusyNow(ctx, source, config, timeZone, { timeoutMs: FIRST_SYNC_TIMEOUT_MS }) };
  } catch (error) {
    if (error instanceof CalendarSourceError && error.kind === 'refused') throw invalidField('url', error.message);
    if (!(error instanceof CalendarSourceError)) onError?.(error);
    outcome = { failure: failureReason(error) };
  }

  const id = newId('cal');
  await ctx.db.transaction(async (tx) => {
    // Connections of one provider are added one at a time, so the limit holds under concurrency.
    await tx.query('SELECT pg_advisory_xact_lock(724103, hashtext($1))', [providerId]);
    if ((await countConnections(tx, providerId)) >= MAX_CALENDARS_PER_PROVIDER) {
      throw new AppError('state_conflict', `A provider can connect at most ${MAX_CALENDARS_PER_PROVIDER} calendars.`);
    }
    if (writeBookings) await ensureNoWriteCalendar(tx, providerId);
    await insertConnection(tx, {
      id,
      providerId,
      type: input.type,
      configCiphertext: sealSecret(key, JSON.stringify(config), id),
      writeBookings,
      writeMode: input.writeMode ?? 'eventual',
    }).catch((error: unknown) => {
      // The partial unique index calendar_connections_one_writer is the guarantee; the checks above give the words.
      if (sqlState(error) === SQLSTATE.uniqueViolation) throw writeCalendarTaken();
      throw error;
    });
    if (outcome) await applyOutcome(tx, id, outcome);
  });
  const view = toCalendarView((await findConnection(ctx.db, providerId, id))!);
  return google ? { ...view, authorizationUrl: await startGoogleAuthorization(ctx, google, id) } : view;
}

/**
 * The URLs of a connection (url, calendarUrl) are checked before anything is
 * read or stored: a host that is, or resolves to, a private address, or whose
 * lookup does not finish in time, is a 400 (host-check.ts). The read that
 * follows checks again on the address it connects to.
 */
async function refuseForbiddenHosts(ctx: AppContext, input: ConnectCalendarInput): Promise<void> {
  for (const field of ['url', 'calendarUrl'] as const) {
    const raw = input[field];
    if (typeof raw !== 'string') continue;
    try {
      await checkHost(parseSourceUrl(raw), { allowPrivateAddresses: ctx.config.calendarAllowPrivateUrls });
    } catch (error) {
      throw invalidField(field, (error as Error).message);
    }
  }
}

const writeCalendarTaken = () => new AppError('state_conflict',
  'This provider already has a calendar that bookings are written into (writeBookings): a provider has at most one. '
  + 'Disconnect it first, or connect this one without writeBookings.');

async function ensureNoWriteCalendar(q: Queryable, providerId: string): Promise<void> {
  if (await findWriteCalendar(q, providerId)) throw writeCalendarTaken();
}

export async function listCalendars(
  ctx: AppContext,
  caller: Principal,
  providerId: string,
  query: { limit: number; cursor?: string },
): Promise<Page<CalendarView>> {
  await requireProviderAccess(ctx.db, caller, providerId);
  const after = decodeCursor(query.cursor);
  const rows = await listConnections(ctx.db, providerId, {
    after: after ? { createdAt: after.sortValue, id: after.id } : null,
    limit: query.limit + 1,
  });
  return toPage(rows, query.limit, toCalendarView, (c) => encodeCursor(c.createdAt, c.id));
}

/** Removes a connection; its busy time stops counting in the same transaction. */
export async function disconnectCalendar(ctx: AppContext, caller: Principal, providerId: string, id: string): Promise<void> {
  await requireProviderAccess(ctx.db, caller, providerId);
  const removed = await ctx.db.transaction(async (tx) => {
    if (!(await deleteConnection(tx, providerId, id))) return false;
    await bumpAvailabilityVersion(tx, providerId);
    return true;
  });
  if (!removed) throw new AppError('not_found', `No calendar with id "${id}" for this provider.`);
}

/** Refreshes a connection now and shows it after the sync (status "error" and the reason when the source failed). */
export async function syncCalendarNow(
  ctx: AppContext,
  caller: Principal,
  providerId: string,
  id: string,
  onError?: ErrorSink,
): Promise<CalendarView> {
  await requireProviderAccess(ctx.db, caller, providerId);
  const notFound = () => new AppError('not_found', `No calendar with id "${id}" for this provider.`);
  if (!(await findConnection(ctx.db, providerId, id))) throw notFound();
  const synced = await syncConnection(ctx, id, onError ? { onError } : {});
  if (!synced) throw notFound();
  return toCalendarView(synced);
}
