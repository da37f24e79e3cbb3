import { findEventTypeBySlug } from '../../db/event-types-repo.js';
import { AppError } from '../../domain/errors.js';
import { putSchedule } from '../availability/availability.js';
import type { AppContext, Principal } from '../context.js';
import { createEventType } from '../event-types/event-types.js';
import { createUser } from '../identity/users.js';

export const DEMO_SLUG = 'demo-consultation';

/**
 * A demo provider with weekday hours and the public event type
 * `demo-consultation`, so a newcomer's first `npm start` has a booking page
 * to open. `onlyIfEmpty`: only on a database with no provider and no event
 * type ever (a fresh one): deleting the demo never brings it back.
 * Returns the booking page's URL, or null when nothing was seeded.
 */
export async function seedDemo(ctx: AppContext, options: { onlyIfEmpty: boolean }): Promise<string | null> {
  const url = `${ctx.config.publicBaseUrl}/book/${DEMO_SLUG}`;
  if (options.onlyIfEmpty) {
    const { rows } = await ctx.db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM users WHERE role <> 'admin')::int + (SELECT count(*) FROM event_types)::int AS n`,
    );
    if ((rows[0]?.n ?? 0) > 0) return null;
  } else if (await findEventTypeBySlug(ctx.db, DEMO_SLUG)) {
    return url;
  }
  const admin: Principal = { userId: ctx.adminUserId, role: 'admin', keyId: null };
  // Several processes may start at once on one fresh database: on the first start the demo provider has a
  // fixed email, so only one of them creates it; the others see email_taken and leave the seeding to it.
  const email = options.onlyIfEmpty ? 'demo-provider@example.invalid' : `demo-provider-${Date.now()}@example.invalid`;
  let user: { id: string };
  try {
    ({ user } = await createUser(ctx, admin, { name: 'Dr. Demo Example', email, role: 'provider', timeZone: 'Europe/Berlin' }));
  } catch (error) {
    if (options.onlyIfEmpty && error instanceof AppError && error.code === 'email_taken') return null;
    throw error;
  }
  const weekdays = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'] as const;
  await putSchedule(ctx, admin, user.id, {
    timeZone: 'Europe/Berlin',
    weekly: [...weekdays.map((day) => ({ day, start: '09:00', end: '17:00' })), { day: 'saturday' as const, start: '10:00', end: '13:00' }],
  });
  await createEventType(ctx, admin, {
    slug: DEMO_SLUG,
    title: 'Demo consultation',
    description: 'A first conversation about what you need. Pick a time that suits you.',
    location: 'Video call (the link comes by email)',
    hosts: [{ providerId: user.id }],
    durations: [30, 60],
    minimumNotice: 120,
    bookingWindow: { type: 'rolling', days: 60 },
    cancellationNotice: 240,
    public: true,
    questions: [
      { id: 'topic', label: 'What would you like to talk about?', type: 'longText', required: true, maxLength: 500 },
      { id: 'phone', label: 'Phone', type: 'phone' },
      { id: 'first_visit', label: 'First visit', type: 'boolean' },
    ],
  });
  return url;
}
