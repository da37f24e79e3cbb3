import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../features/context.js';
import { adminMailRoutes } from './admin-mail.js';
import { apiKeyRoutes } from './api-keys.js';
import { avatarRoutes } from './avatars.js';
import { availabilityRoutes } from './availability.js';
import { availabilityItemRoutes } from './availability-items.js';
import { bookingRoutes } from './bookings.js';
import { bookingPageRoutes } from './booking-page.js';
import { calendarFeedRoutes } from './calendar-feed.js';
import { calendarRoutes } from './calendars.js';
import { closureRoutes } from './closures.js';
import { providerRoutes } from './providers.js';
import { eventTypeRoutes } from './event-types.js';
import { oidcRoutes } from './oidc.js';
import { opsRoutes } from './ops.js';
import { serviceRoutes } from './service.js';
import { slotRoutes } from './slots.js';
import { userRoutes } from './users.js';
import { webhookRoutes } from './webhooks.js';

export async function registerRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(serviceRoutes(ctx));
  await app.register(opsRoutes(ctx));
  await app.register(bookingPageRoutes(ctx));
  for (const routes of [
    userRoutes, apiKeyRoutes, availabilityRoutes, availabilityItemRoutes, slotRoutes, bookingRoutes, calendarFeedRoutes,
    calendarRoutes, webhookRoutes, eventTypeRoutes, closureRoutes, adminMailRoutes, providerRoutes, avatarRoutes, oidcRoutes,
  ]) {
    await app.register(routes(ctx), { prefix: '/v1' });
  }
}
