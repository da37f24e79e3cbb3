import type { Queryable } from '../../db/database.js';
import type { EventTypeRecord } from '../../db/event-types-repo.js';
import { busyProviders, roundRobinStats, seatsTaken, type SeatHolder } from '../../db/team-repo.js';
import { AppError } from '../../domain/errors.js';
import type { Interval } from '../../domain/intervals.js';
import { chooseHost } from '../../domain/round-robin.js';
import type { AppContext } from '../context.js';
import { checkTypeSlot, ensureWithinLimits } from './event-type-hold.js';
import { EVENT_TYPE_LOCK, type Assignment } from './hold.js';

/** A host that passed every rule that does not count bookings, with its zone (limits are counted in it). */
export interface EligibleHost {
  providerId: string;
  zone: string;
  /** A live booking of this host takes the time now (only looked for with `seeTaken`; else false). */
  taken: boolean;
}

/**
 * The hosts among `candidates` whose working time, grid, notice, window and
 * calendar busy time allow the slot. Collective types need all of them: the
 * first refusal is thrown. Otherwise refusals are collected; with none left
 * the most telling one is thrown (a busy host over an unbookable time).
 */
export async function eligibleHosts(
  ctx: AppContext,
  type: EventTypeRecord,
  candidates: readonly string[],
  slot: Interval,
  seeTaken = false,
): Promise<EligibleHost[]> {
  const eligible: EligibleHost[] = [];
  const refusals: AppError[] = [];
  for (const providerId of candidates) {
    try {
      const { zone, taken } = await checkTypeSlot(ctx, type, providerId, slot, seeTaken);
      eligible.push({ providerId, zone, taken });
    } catch (error) {
      if (!(error instanceof AppError) || type.spec.assignment === 'collective') throw error;
      refusals.push(error);
    }
  }
  if (eligible.length === 0) throw refusals.find((e) => e.code === 'slot_taken') ?? refusals[0]!;
  return eligible;
}

const fits = async (tx: Queryable, type: EventTypeRecord, host: EligibleHost, start: number, excludeBookingId: string | null) => {
  try {
    await ensureWithinLimits(tx, type, host.providerId, host.zone, start, excludeBookingId);
    return true;
  } catch (error) {
    if (error instanceof AppError && error.code === 'limit_reached') return false;
    throw error;
  }
};

/**
 * Round robin, under the type's lock so that concurrent holds of the type see
 * each other's choices: among the eligible hosts free at the blocked range and
 * within their limits, the contract's rule (src/domain/round-robin.ts).
 */
export async function assignRoundRobin(
  tx: Queryable,
  type: EventTypeRecord,
  eligible: readonly EligibleHost[],
  blocked: Interval,
  start: number,
  excludeBookingId: string | null,
): Promise<Assignment> {
  await tx.query(`SELECT pg_advisory_xact_lock(${EVENT_TYPE_LOCK}, hashtext($1))`, [type.id]);
  const busy = await busyProviders(tx, eligible.map((h) => h.providerId), blocked, excludeBookingId);
  const free: EligibleHost[] = [];
  for (const host of eligible) if (!busy.has(host.providerId) && await fits(tx, type, host, start, excludeBookingId)) free.push(host);
  if (free.length === 0) {
    throw busy.size > 0
      ? new AppError('slot_taken', 'No host of this event type is free at this time any more.')
      : new AppError('limit_reached', 'Every free host already has the most bookings of this type allowed in that period.');
  }
  const stats = await roundRobinStats(tx, type.id, free.map((h) => h.providerId), excludeBookingId);
  const settings = new Map(type.hosts.map((h) => [h.providerId, h]));
  const chosen = chooseHost(free.map((h) => ({
    providerId: h.providerId,
    priority: settings.get(h.providerId)?.priority ?? 2,
    weight: settings.get(h.providerId)?.weight ?? 100,
    count: stats.get(h.providerId)?.count ?? 0,
    lastCreatedAt: stats.get(h.providerId)?.lastCreatedAt ?? null,
  })))!;
  return { providerId: chosen, hostIds: [chosen] };
}

/**
 * A seat of an occurrence: one per client or guest email, at most `seats` live
 * ones. Both are counted under the host's lock (a seated type has one host), so
 * ten simultaneous holds by one guest email give one seat.
 */
export async function ensureSeatFree(
  tx: Queryable,
  type: EventTypeRecord,
  occurrence: string,
  holder: SeatHolder,
  excludeBookingId: string | null,
): Promise<void> {
  const { taken, byHolder } = await seatsTaken(tx, occurrence, holder, excludeBookingId);
  if (byHolder) {
    throw new AppError('already_booked', 'clientId' in holder ? 'You already have a seat at this time.' : 'This email address already has a seat at this time.');
  }
  if (taken >= type.spec.seats) throw new AppError('slot_taken', `All ${type.spec.seats} seats at this time are taken.`);
}

/** Who holds a booking's seat: its client, or its guest's email. */
export function seatHolderOf(b: { clientId: string | null; guest: { email: string } | null }): SeatHolder {
  if (b.clientId !== null) return { clientId: b.clientId };
  if (b.guest !== null) return { guestEmail: b.guest.email };
  throw new Error('a booking has a client or a guest');
}
