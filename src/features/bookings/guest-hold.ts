import { createHash } from 'node:crypto';
import type { Queryable } from '../../db/database.js';
import { liveGuestHolds, upcomingBookingsOfGuest } from '../../db/guest-bookings-repo.js';
import { beyondHorizon } from '../../domain/booking-horizon.js';
import { AppError, invalidField } from '../../domain/errors.js';
import { nameProblem } from '../../domain/text.js';
import { isValidTimeZone } from '../../domain/zoned-time.js';
import type { AppContext, Principal } from '../context.js';
import { readableEventType } from '../event-types/event-types.js';
import { durationOf, hostOf, requireBookable } from '../event-types/slot-rules.js';
import { blockedRange } from '../../domain/event-slots.js';
import { seatOccurrence } from '../event-types/host-slots.js';
import { eligibleHosts } from './assignment.js';
import { assignmentOf, candidateHosts, checkedAnswers } from './event-type-hold.js';
import { insertHoldUnderLocks } from './hold.js';
import { storeManageToken } from './manage-tokens.js';
import { newId } from '../../platform/crypto/secrets.js';
import { toBookingView, type BookingView } from './views.js';

/** Lock namespaces of the guest hold caps: taken in this order, where a client's hold takes CLIENT_LOCK (before the provider's). */
export const GUEST_ADDRESS_LOCK = 724110;
export const GUEST_EMAIL_LOCK = 724111;

const GUEST_CALLER: Principal = { userId: 'guest', role: 'guest', keyId: null };

export interface GuestHoldInput {
  eventTypeId: string;
  start: number;
  duration?: number;
  answers?: Record<string, unknown>;
  notes?: string;
  providerId?: string;
  guest: { name: string; email: string; timeZone?: string };
  /** The client's address as the server sees it (request.ip: X-Forwarded-For only behind TRUST_PROXY). */
  address: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function tooManyHolds(ctx: AppContext, who: string, held: { count: number; secondsToFirstExpiry: number | null }): AppError {
  const wait = held.secondsToFirstExpiry ?? 1;
  return new AppError(
    'too_many_holds',
    `${who} already holds ${held.count} unconfirmed time${held.count === 1 ? '' : 's'}, the most allowed (${ctx.config.maxHoldsPerClient}); ` +
      `confirm or cancel one first (or retry when the earliest hold expires, in ${wait} s).`,
    undefined,
    wait,
  );
}

/**
 * A hold of a public event type without an account. The same rules as a
 * client's hold of the type (grid, notice, window, working time, buffers,
 * limits, the exclusion constraint), with the client's lock and caps replaced
 * by the guest's: at most MAX_HOLDS_PER_CLIENT live holds per client address
 * and per guest email, and the client's upcoming-booking caps per email, each
 * counted under its own advisory lock so that simultaneous holds from one
 * address (or for one email) are counted one at a time.
 *
 * Returns the booking and its manage token (shown once; stored as SHA-256).
 */
export async function holdGuestBooking(ctx: AppContext, input: GuestHoldInput): Promise<{ booking: BookingView; manageToken: string }> {
  const type = await readableEventType(ctx.db, null, input.eventTypeId);
  requireBookable(type);
  const guest = checkedGuest(input.guest);
  const duration = durationOf(type, 'duration', input.duration);
  const asked = input.providerId === undefined ? undefined : hostOf(type, 'providerId', input.providerId);
  const answers = checkedAnswers(type, input.answers);
  const slot = { start: input.start, end: input.start + duration * 60_000 };
  const blocked = blockedRange(slot, type.spec.bufferBefore, type.spec.bufferAfter);
  // The same assignment as a client's hold: round robin, collective, seats (event-type-hold.ts).
  const eligible = await eligibleHosts(ctx, type, candidateHosts(type, asked), slot);
  const occurrence = type.spec.seats > 1 ? seatOccurrence(type.id, slot.start) : undefined;
  const team = assignmentOf(type, eligible, blocked, slot.start, occurrence, { guestEmail: guest.email });
  // The per-provider cap counts against the host asked for, or the first that can take the slot.
  const hostId = eligible[0]!.providerId;
  const addressHash = sha256(`address:${input.address}`);
  const horizonDays = type.spec.bookingWindow ? Infinity : ctx.config.bookingHorizonDays;

  const guestLocks = async (tx: Queryable) => {
    if (beyondHorizon(slot.start, ctx.clock.now(), horizonDays)) {
      throw new AppError('not_bookable', `The start is more than ${horizonDays} days ahead; bookings open ${horizonDays} days in advance.`);
    }
    await tx.query(`SELECT pg_advisory_xact_lock(${GUEST_ADDRESS_LOCK}, hashtext($1))`, [addressHash]);
    const fromAddress = await liveGuestHolds(tx, { addressHash });
    if (fromAddress.count >= ctx.config.maxHoldsPerClient) throw tooManyHolds(ctx, 'This address', fromAddress);
    await tx.query(`SELECT pg_advisory_xact_lock(${GUEST_EMAIL_LOCK}, hashtext($1))`, [guest.email.toLowerCase()]);
    const forEmail = await liveGuestHolds(tx, { email: guest.email });
    if (forEmail.count >= ctx.config.maxHoldsPerClient) throw tooManyHolds(ctx, 'This email address', forEmail);
    const { withProvider, overall } = await upcomingBookingsOfGuest(tx, guest.email, hostId);
    if (withProvider >= ctx.config.maxBookingsPerClientPerProvider || overall >= ctx.config.maxBookingsPerClient) {
      throw new AppError('too_many_bookings', 'This email address has the most upcoming bookings allowed; cancel one, or book again after one has taken place.');
    }
  };

  const id = newId('bkg');
  let manageToken = '';
  const held = await insertHoldUnderLocks(
    ctx,
    GUEST_CALLER,
    {
      id, providerId: null, clientId: null, eventTypeId: type.id, ...slot,
      blockedStart: blocked.start, blockedEnd: blocked.end, notes: input.notes ?? null, answers,
      requiresConfirmation: type.spec.requiresConfirmation, cancellationNotice: type.spec.cancellationNotice,
      guest: { ...guest, addressHash },
      ...(occurrence !== undefined ? { occurrence } : {}),
    },
    {
      guestLocks,
      horizonDays,
      assign: team.assign,
      checkUnderLock: async (tx, assigned) => {
        await team.checkUnderLock?.(tx, assigned);
        // In the hold's transaction (the token's foreign key is checked at commit): no booking without its token.
        manageToken = await storeManageToken(tx, id, 'manage');
      },
    },
  );
  return { booking: toBookingView(held), manageToken };
}

function checkedGuest(guest: GuestHoldInput['guest']): { name: string; email: string; timeZone: string | null } {
  const name = guest.name.trim();
  const problem = nameProblem(name);
  if (problem) throw invalidField('guest/name', problem);
  if (guest.timeZone !== undefined && !isValidTimeZone(guest.timeZone)) throw invalidField('guest/timeZone', 'is not a known IANA time zone');
  return { name, email: guest.email.trim(), timeZone: guest.timeZone ?? null };
}
