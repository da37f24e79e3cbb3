import type { EventTypeRecord } from '../../db/event-types-repo.js';
import { findUserById } from '../../db/users-repo.js';
import { formatInstant } from '../../domain/zoned-time.js';
import type { EventType as EventTypeView } from '../../http/schemas/event-types.js';
import type { AppContext } from '../context.js';

/** The type as the API shows it: defaults filled in, hosts with their public fields only. */
export async function toEventTypeView(ctx: AppContext, t: EventTypeRecord): Promise<EventTypeView> {
  const { spec } = t;
  const hosts = await Promise.all(t.hosts.map(async (h) => {
    const user = await findUserById(ctx.db, h.providerId);
    return {
      providerId: h.providerId,
      priority: h.priority,
      weight: h.weight,
      ...(user ? { name: user.name, kind: 'person', timeZone: user.timeZone } : {}),
    };
  }));
  return {
    id: t.id,
    slug: t.slug,
    title: spec.title,
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    ...(spec.location !== undefined ? { location: spec.location } : {}),
    hosts,
    assignment: spec.assignment,
    durations: spec.durations,
    slotInterval: spec.slotInterval,
    bufferBefore: spec.bufferBefore,
    bufferAfter: spec.bufferAfter,
    minimumNotice: spec.minimumNotice ?? ctx.config.minNoticeMinutes,
    ...(spec.bookingWindow !== undefined ? { bookingWindow: spec.bookingWindow } : {}),
    ...(spec.limits !== undefined ? { limits: spec.limits } : {}),
    requiresConfirmation: spec.requiresConfirmation,
    seats: spec.seats,
    clientMayOverlap: spec.clientMayOverlap ?? false,
    cancellationNotice: spec.cancellationNotice,
    questions: spec.questions as EventTypeView['questions'],
    public: t.public,
    active: t.active,
    createdAt: formatInstant(t.createdAt),
    updatedAt: formatInstant(t.updatedAt),
  };
}
