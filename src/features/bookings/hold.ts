import { findBookings, insertHold, type BookingRecord, type NewHold } from '../../db/bookings-repo.js';
import { clientKeyOf } from '../../db/client-blocks-repo.js';
import { lockClientAndCount, lockProvidersAndReleaseLapsed, readClientCounts, type ClientHoldCounts } from '../../db/hold-locks-repo.js';
import { SQLSTATE, sqlState, type Queryable } from '../../db/database.js';
import { bumpAvailabilityVersion, findUserById } from '../../db/users-repo.js';
import { AppError, invalidField } from '../../domain/errors.js';
import { requireAccess } from '../access/policy.js';
import type { AppContext, Principal } from '../context.js';
import { newId } from '../../platform/crypto/secrets.js';
import { enforceBookingCaps } from './booking-caps.js';
import { insertHoldRecordingEvent, recordBookingEvent } from './events.js';
import { clearClientTime, explainClientOverlap, type ClientTime } from './client-overlap.js';

/** Lock namespaces (pg_advisory_xact_lock(namespace, hashtext(id))): always taken in this order. */
export const CLIENT_LOCK = 724102;
export const PROVIDER_LOCK = 724101;
/** Round robin: choices and inserts of one event type take turns (between the client's lock and the hosts'). */
export const EVENT_TYPE_LOCK = 724103;

/**
 * Whose hold this is: clients book for themselves; an admin, or staff of
 * every host the hold could be given (`hostIds`), on a client's behalf with
 * clientId. Who may is the access policy's decision.
 */
export async function resolveClient(
  ctx: AppContext,
  caller: Principal,
  clientId: string | undefined,
  hostIds: readonly string[],
): Promise<string> {
  requireAccess(caller, { on: 'hold', action: 'create', clientId, hostIds });
  if (caller.role === 'client') return caller.userId;
  if (clientId === undefined) throw invalidField('clientId', `is required when ${caller.role === 'staff' ? 'staff book' : 'an administrator books'}`);
  const client = await findUserById(ctx.db, clientId);
  if (!client || client.role !== 'client' || client.deactivatedAt !== null) throw invalidField('clientId', `no client with id "${clientId}"`);
  return client.id;
}

/**
 * At most MAX_HOLDS_PER_CLIENT live holds per client, so one client cannot
 * hold every slot of a provider. Counted under the client's lock (see
 * insertHoldUnderLocks), so two holds of one client at once cannot both see room for one.
 */
function ensureRoomForAnotherHold(ctx: AppContext, caller: Principal, clientId: string, counts: ClientHoldCounts): void {
  const { liveHolds: count, secondsToFirstExpiry } = counts;
  if (count < ctx.config.maxHoldsPerClient) return;
  const who = caller.userId === clientId ? 'You already hold' : `Client ${clientId} already holds`;
  throw new AppError(
    'too_many_holds',
    `${who} ${count} unconfirmed slot${count === 1 ? '' : 's'}; confirm or cancel one first ` +
      `(or retry when the earliest hold expires, in ${secondsToFirstExpiry ?? 1} s).`,
    undefined,
    secondsToFirstExpiry ?? 1,
  );
}

/**
 * Takes the providers' locks in the order given (sorted: two writers of the
 * same providers cannot deadlock) and frees their lapsed holds in the way of
 * `blocked`, recording their expiry; returns how many. With `occurrence` (a
 * new booking's), a time already taken is refused before the locks (409 by bookingConflict).
 */
export async function lockProvidersAndClear(
  tx: Queryable,
  sortedProviderIds: readonly string[],
  blocked: { start: number; end: number },
  occurrence: string | null = null,
): Promise<number> {
  // Writers of one provider take turns. Without this, two overlapping inserts
  // can each find the other's uncommitted row while checking the exclusion
  // constraint, wait on each other, and one dies with a deadlock (40P01, a 500)
  // instead of a 409. The constraint stays the guarantee; this only orders
  // (and makes counting rules such as per-day limits exact: see event-type-hold.ts).
  return recordExpiries(tx, await lockProvidersAndReleaseLapsed(tx, sortedProviderIds, blocked, occurrence));
}

/** The booking.expired events of lapsed holds just released; returns how many. */
async function recordExpiries(tx: Queryable, lapsed: readonly BookingRecord[]): Promise<number> {
  for (const b of lapsed) await recordBookingEvent(tx, 'booking.expired', b);
  return lapsed.length;
}

/** Who a hold is with: one provider (the first host) and every host whose time it takes. */
export interface Assignment {
  providerId: string;
  hostIds: string[];
}

export interface HoldOptions {
  /** A type with a booking window sets its own horizon instead of BOOKING_HORIZON_DAYS. */
  horizonDays?: number;
  /**
   * The hosts: known (collective, a host asked for), or decided under the
   * client's lock, before any host's lock: round robin takes its type's lock
   * there, so choices and inserts of one type take turns and see each other.
   * Without it: the hold's providerId alone.
   */
  assign?: Assignment | ((tx: Queryable) => Promise<Assignment>);
  /**
   * Rules that count other bookings (limits, seats), run under every host's
   * lock. Without them a client's hold takes the hosts' locks in its insert's
   * statement, one round trip fewer under them (migrations/017).
   */
  checkUnderLock?: (tx: Queryable, assigned: Assignment) => Promise<void>;
  /** A guest's hold (no client): its address's and email's locks and caps, in the client lock's place. */
  guestLocks?: (tx: Queryable) => Promise<void>;
}

/**
 * The hold's transaction, the same for every kind of booking: the client's
 * lock and hold cap, the assignment (round robin), the booking caps
 * (booking-caps.ts), every host's lock in one order (sorted ids, so two
 * collective holds cannot deadlock) with lapsed holds released, the counting
 * rules, then the insert. "Nobody else has this time" is not checked at all
 * but left to the exclusion constraint on blocked ranges (one row per host),
 * which is what makes it true under any concurrency, all hosts or none.
 */
export async function insertHoldUnderLocks(
  ctx: AppContext,
  caller: Principal,
  hold: Omit<NewHold, 'id' | 'ttlSeconds' | 'providerId' | 'hostIds'> & { providerId: string | null; id?: string },
  options: HoldOptions = {},
): Promise<BookingRecord> {
  let released = 0;
  // The client's own time (event types only: v1 bookings keep v1's rules; migrations/012).
  const clientTime: ClientTime = {
    clientId: hold.clientId, guestEmail: hold.guest?.email ?? null, range: { start: hold.start, end: hold.end }, bookingId: null,
  };
  try {
    const booking = await ctx.db.transaction(async (tx) => {
      const clientId = hold.clientId;
      let counts: ClientHoldCounts | null = null;
      if (clientId !== null) {
        // Holds of one client take turns, so the caps are counted by one at a time; this lock comes first.
        counts = await lockClientAndCount(tx, clientId);
        ensureRoomForAnotherHold(ctx, caller, clientId, counts);
      } else if (options.guestLocks) {
        // A guest (no account): its address's and email's locks and hold caps, in the client lock's place (guest-hold.ts).
        await options.guestLocks(tx);
      } else {
        throw new Error('a hold needs a client or guestLocks');
      }
      const assigned = typeof options.assign === 'function'
        ? await options.assign(tx)
        : options.assign ?? { providerId: hold.providerId!, hostIds: [hold.providerId!] };
      if (clientId !== null && counts !== null) {
        enforceBookingCaps(ctx, caller, {
          clientId, providerId: assigned.providerId, start: hold.start,
          ...(options.horizonDays !== undefined ? { horizonDays: options.horizonDays } : {}),
        }, counts);
      }
      const id = hold.id ?? newId('bkg');
      const blocked = { start: hold.blockedStart, end: hold.blockedEnd };
      // A taken time is refused before the locks only where no counting rule runs under them: those
      // (limits, seats) answer first when both apply, as they always have. A seat's occurrence is
      // shared with the other seats of it; any other booking's is its own id (bookings-repo insertHold).
      const refuseTakenFor = options.checkUnderLock ? null : hold.occurrence ?? id;
      const providerIds = [...assigned.hostIds].sort();
      const newHold = { ...hold, id, providerId: assigned.providerId, hostIds: assigned.hostIds, ttlSeconds: ctx.config.holdTtlSeconds };
      const otherHosts = assigned.hostIds.filter((h) => h !== assigned.providerId);
      if (counts !== null && !options.checkUnderLock) {
        // Nothing to count under the hosts' locks: they are taken in the insert's statement (with the row, its
        // event, the provider's bump and the client's lapsed time), so they span that statement and the commit.
        // Measured: a v1 hold 7 -> 5 round trips, 3 -> 1 after the locks; its transaction on PostgreSQL, sequential
        // at load ~5: 6.5 / 6.0 -> 6.2 / 4.9 ms. bench/holds-ab.ts, three rounds alternated at load 1.7-3.6: embedded
        // 186 / 250 / 187 -> 240 / 271 / 266 created/s; the PostgreSQL race 76 / 90 / 83 -> 66 / 75 / 65 holds/s (its
        // losers, 3 of 4, parsed and planned this bigger statement before being refused), and 79 / 78 / 88 against
        // 59 / 64 / 76 once repeated statements were prepared (db/statement-names.ts).
        const clientKey = hold.eventTypeId !== null ? clientKeyOf(clientTime) : null;
        const { held, lapsedIds } = await insertHoldRecordingEvent(tx, newHold, counts.dbNow, { providerIds, refuseTakenFor, clientKey });
        released = await recordExpiries(tx, await findBookings(tx, lapsedIds));
        for (const hostId of otherHosts) await bumpAvailabilityVersion(tx, hostId);
        return held;
      }
      if (hold.eventTypeId !== null) await clearClientTime(tx, clientTime);
      released = await lockProvidersAndClear(tx, providerIds, blocked, refuseTakenFor);
      if (options.checkUnderLock) await options.checkUnderLock(tx, assigned);
      if (counts === null) {
        // A guest's hold: the row, its event and each host's bump, a statement each.
        const held = await insertHold(tx, newHold);
        await recordBookingEvent(tx, 'booking.held', held);
        for (const hostId of assigned.hostIds) await bumpAvailabilityVersion(tx, hostId);
        return held;
      }
      // A client's counts brought the transaction's clock: the row, its event and the provider's bump in one statement.
      const { held } = await insertHoldRecordingEvent(tx, newHold, counts.dbNow, null);
      for (const hostId of otherHosts) await bumpAvailabilityVersion(tx, hostId);
      return held;
    });
    ctx.metrics.countBooking('held');
    if (released > 0) ctx.metrics.holdsExpired.inc(released);
    return booking;
  } catch (error) {
    throw bookingConflict(ctx, await explainClientOverlap(ctx.db, error, clientTime));
  }
}

/**
 * A client's hold for a time that the route's read found taken by a live booking, refused
 * without a transaction (migrations/018: in a race for one time most requests lose, and each
 * took the client's lock and sent the insert only to be refused). The client's hold and
 * booking caps answer first, on counts read without the lock, as they would under it.
 * Only ever a refusal: a time not seen taken here is decided by the exclusion constraint.
 */
export async function refuseTakenTime(
  ctx: AppContext,
  caller: Principal,
  clientId: string,
  booking: { providerId: string; start: number; horizonDays?: number },
): Promise<never> {
  try {
    const counts = await readClientCounts(ctx.db, clientId);
    ensureRoomForAnotherHold(ctx, caller, clientId, counts);
    enforceBookingCaps(ctx, caller, { clientId, ...booking }, counts);
  } catch (error) {
    throw bookingConflict(ctx, error);
  }
  throw slotTaken(ctx);
}

function slotTaken(ctx: AppContext): AppError {
  ctx.metrics.countBooking('conflict');
  return new AppError('slot_taken', 'This time (with its buffers) overlaps a booking that is held, pending or confirmed.');
}

/** An exclusion violation is the time being taken (409); other errors pass through, counted. */
export function bookingConflict(ctx: AppContext, error: unknown): unknown {
  if (sqlState(error) === SQLSTATE.exclusionViolation) return slotTaken(ctx);
  if (error instanceof AppError && error.code === 'too_many_holds') {
    ctx.metrics.countBooking('too_many_holds');
    ctx.metrics.rateLimited.labels('holds').inc();
  }
  if (error instanceof AppError && error.code === 'limit_reached') ctx.metrics.countBooking('limit_reached');
  return error;
}
