import { feedBookings, type BookingRecord } from '../../db/bookings-repo.js';
import { findEventTypeEvenDeleted, type EventTypeRecord } from '../../db/event-types-repo.js';
import { ensureFeedToken, findFeedToken, replaceFeedToken } from '../../db/calendar-feeds-repo.js';
import { AppError } from '../../domain/errors.js';
import { renderCalendar } from '../../domain/ics.js';
import type { AppContext, Principal } from '../context.js';
import { requireProvider, requireProviderAccess } from '../availability/providers.js';
import { constantTimeEquals, newFeedToken } from '../../platform/crypto/secrets.js';

const FEED_HISTORY_MS = 90 * 24 * 3600 * 1000;

/**
 * The feed's link, built on PUBLIC_BASE_URL (never on the request's Host).
 * `rotate` replaces the token first: calendar apps subscribed with the old
 * link then get 404 until given the new one.
 */
export async function getFeedLink(
  ctx: AppContext,
  caller: Principal,
  providerId: string,
  options: { rotate?: boolean } = {},
): Promise<{ url: string; token: string }> {
  await requireProviderAccess(ctx.db, caller, providerId);
  const token = options.rotate
    ? await replaceFeedToken(ctx.db, providerId, newFeedToken())
    : await ensureFeedToken(ctx.db, providerId, newFeedToken());
  const baseUrl = ctx.config.publicBaseUrl;
  const url = `${baseUrl}/v1/providers/${encodeURIComponent(providerId)}/calendar.ics?token=${encodeURIComponent(token)}`;
  return { url, token };
}

/** Whether `token` is the provider's current feed token (an empty one never is). */
export async function feedTokenMatches(ctx: AppContext, providerId: string, token: string | undefined): Promise<boolean> {
  if (token === undefined || token === '') return false;
  const expected = await findFeedToken(ctx.db, providerId);
  return expected !== null && constantTimeEquals(token, expected);
}

/**
 * The feed is read by calendar apps that cannot send headers, so the token in
 * the URL is enough; with an API key instead, the usual provider/admin rule.
 */
export async function renderFeed(
  ctx: AppContext,
  access: { principal: Principal | null; token: string | undefined },
  providerId: string,
): Promise<string> {
  if (access.principal) {
    await requireProviderAccess(ctx.db, access.principal, providerId);
  } else {
    // An empty ?token= is no token, as an empty ?apiKey= is no key.
    if (access.token === undefined || access.token === '') throw new AppError('unauthenticated', 'Pass ?token= from calendar-feed, or an API key.');
    if (!(await feedTokenMatches(ctx, providerId, access.token))) {
      throw new AppError('not_found', 'No calendar feed for this provider and token.');
    }
  }
  const provider = await requireProvider(ctx.db, providerId);
  const now = ctx.clock.now();
  const bookings = await feedBookings(ctx.db, providerId, now - FEED_HISTORY_MS);
  const types = await eventTypesOf(ctx, bookings);
  return renderCalendar({
    name: `${provider.name} bookings`,
    now,
    events: bookings.map((b) => {
      const type = b.eventTypeId === null ? undefined : types.get(b.eventTypeId);
      const description = describeForHost(b, type);
      const title = type?.spec.title ?? 'Booking';
      return {
        uid: `${b.id}@booking-engine`,
        start: b.start,
        end: b.end,
        status: b.status === 'confirmed' ? 'CONFIRMED' : 'TENTATIVE',
        summary: b.status === 'confirmed' ? title : `${title} (${b.status === 'pending' ? 'awaiting approval' : 'held'})`,
        ...(description ? { description } : {}),
        created: b.createdAt,
        lastModified: Math.max(b.confirmedAt ?? b.createdAt, b.rescheduledAt ?? 0),
        sequence: b.sequence,
      };
    }),
  });
}

async function eventTypesOf(ctx: AppContext, bookings: readonly BookingRecord[]): Promise<Map<string, EventTypeRecord>> {
  const ids = [...new Set(bookings.map((b) => b.eventTypeId).filter((id): id is string => id !== null))];
  const found = await Promise.all(ids.map((id) => findEventTypeEvenDeleted(ctx.db, id)));
  return new Map(found.filter((t): t is EventTypeRecord => t !== null).map((t) => [t.id, t]));
}

/** What the host reads in the event: the answers under their questions' labels, then the client's notes. */
function describeForHost(b: BookingRecord, type: EventTypeRecord | undefined): string {
  const lines: string[] = [];
  for (const q of type?.spec.questions ?? []) {
    const answer = b.answers?.[q.id];
    if (answer === undefined || answer === null || answer === '') continue;
    lines.push(`${q.label}: ${Array.isArray(answer) ? answer.join(', ') : String(answer)}`);
  }
  if (b.notes) lines.push(lines.length > 0 ? `Notes: ${b.notes}` : b.notes);
  return lines.join('\n');
}
