import { SQLSTATE, sqlState, type Queryable, type Transaction } from '../../db/database.js';
import {
  findEventType,
  findEventTypeBySlug,
  insertEventType,
  listEventTypes as listEventTypeRows,
  softDeleteEventType,
  updateEventType,
  type EventTypeRecord,
  type EventTypeSpec,
  type HostRecord,
} from '../../db/event-types-repo.js';
import { bumpAvailabilityVersion, findUserById } from '../../db/users-repo.js';
import { AppError, invalidField, invalidFields } from '../../domain/errors.js';
import { validateEventTypeRules } from '../../domain/event-type-rules.js';
import type { CreateEventTypeBody, EventType as EventTypeView, PatchEventTypeBody } from '../../http/schemas/event-types.js';
import { newId } from '../../platform/crypto/secrets.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../platform/pagination.js';
import { requireAccess } from '../access/policy.js';
import type { AppContext, Principal } from '../context.js';
import { toEventTypeView } from './view.js';

export type { EventTypeView };

/** The whole writable state of a type: what create builds and patch merges into, then validates. */
type Draft = Omit<EventTypeRecord, 'id' | 'createdAt' | 'updatedAt' | 'deletedAt'>;

const DEFAULT_PRIORITY = 2;
const DEFAULT_WEIGHT = 100;

const notFound = (id: string) => new AppError('not_found', `No event type with id "${id}".`);

/** A type the caller may read: public ones for anyone; with a key, every type (inactive ones too, to manage them). */
export async function readableEventType(q: Queryable, caller: Principal | null, id: string): Promise<EventTypeRecord> {
  return readableAs(caller, id, await findEventType(q, id));
}

/** The type found for `id` (null: none) as `caller` may read it: a 401 for a private type without a key, a 404 for none. */
export function readableAs(caller: Principal | null, id: string, type: EventTypeRecord | null): EventTypeRecord {
  if (!type || (caller === null && !type.public)) {
    if (caller === null && type) throw new AppError('unauthenticated', 'This event type is not public: an API key is required.');
    throw notFound(id);
  }
  return type;
}

function hostsFrom(input: CreateEventTypeBody['hosts'] | undefined, caller: Principal): HostRecord[] {
  if (input === undefined) {
    // Only a provider is a host by default; an admin or staff names the hosts.
    if (caller.role === 'admin' || caller.role === 'staff') throw invalidField('hosts', `is required when ${caller.role === 'admin' ? 'an administrator' : 'staff'} creates an event type`);
    return [{ providerId: caller.userId, priority: DEFAULT_PRIORITY, weight: DEFAULT_WEIGHT }];
  }
  return input.map((h) => ({ providerId: h.providerId, priority: h.priority ?? DEFAULT_PRIORITY, weight: h.weight ?? DEFAULT_WEIGHT }));
}

/** Every rule of the contract, on the whole draft: a 400 naming each bad field, or a 422 for what is not built yet. */
async function validateDraft(q: Queryable, draft: Draft): Promise<void> {
  const { spec } = draft;
  const problems = validateEventTypeRules({
    slug: draft.slug,
    title: spec.title,
    hosts: draft.hosts,
    assignment: spec.assignment,
    durations: spec.durations,
    slotInterval: spec.slotInterval,
    bufferBefore: spec.bufferBefore,
    bufferAfter: spec.bufferAfter,
    ...(spec.minimumNotice !== undefined ? { minimumNotice: spec.minimumNotice } : {}),
    ...(spec.bookingWindow !== undefined ? { bookingWindow: spec.bookingWindow } : {}),
    ...(spec.limits !== undefined ? { limits: spec.limits } : {}),
    seats: spec.seats,
    cancellationNotice: spec.cancellationNotice,
    questions: spec.questions as Parameters<typeof validateEventTypeRules>[0]['questions'] & object,
  });
  if (problems.length > 0) {
    throw invalidFields(problems);
  }
  for (const [i, host] of draft.hosts.entries()) {
    const user = await findUserById(q, host.providerId);
    if (!user || user.role !== 'provider') throw invalidField(`hosts/${i}/providerId`, `no provider with id "${host.providerId}"`);
  }
}

/** Writers of a type tell its hosts' slot caches and live streams that the type's slots may have changed. */
async function announce(tx: Transaction, ...hostLists: HostRecord[][]): Promise<void> {
  const ids = [...new Set(hostLists.flat().map((h) => h.providerId))].sort();
  for (const id of ids) await bumpAvailabilityVersion(tx, id);
}

async function store(ctx: AppContext, write: (tx: Transaction) => Promise<EventTypeRecord>): Promise<EventTypeView> {
  try {
    const stored = await ctx.db.transaction(write);
    return toEventTypeView(ctx, stored);
  } catch (error) {
    if (sqlState(error) === SQLSTATE.uniqueViolation) throw new AppError('slug_taken', 'Another event type already has this slug.');
    throw error;
  }
}

export async function createEventType(ctx: AppContext, caller: Principal, body: CreateEventTypeBody): Promise<EventTypeView> {
  const hosts = hostsFrom(body.hosts, caller);
  // A client's default host would be itself, which is no provider: the policy refuses it (403) like any other host it does not act for.
  requireAccess(caller, { on: 'eventType', action: 'manage', hostIds: hosts.map((h) => h.providerId) });
  const spec: EventTypeSpec = {
    title: body.title,
    ...(body.description !== undefined ? { description: body.description } : {}),
    ...(body.location !== undefined ? { location: body.location } : {}),
    assignment: body.assignment ?? (hosts.length === 1 ? 'single' : 'roundRobin'),
    durations: body.durations,
    slotInterval: body.slotInterval ?? 15,
    bufferBefore: body.bufferBefore ?? 0,
    bufferAfter: body.bufferAfter ?? 0,
    ...(body.minimumNotice !== undefined ? { minimumNotice: body.minimumNotice } : {}),
    ...(body.bookingWindow !== undefined ? { bookingWindow: body.bookingWindow } : {}),
    ...(body.limits !== undefined ? { limits: body.limits } : {}),
    requiresConfirmation: body.requiresConfirmation ?? false,
    seats: body.seats ?? 1,
    clientMayOverlap: body.clientMayOverlap ?? false,
    cancellationNotice: body.cancellationNotice ?? 0,
    questions: body.questions ?? [],
  };
  const draft: Draft = { slug: body.slug, spec, hosts, public: body.public ?? false, active: body.active ?? true };
  await validateDraft(ctx.db, draft);
  return store(ctx, async (tx) => {
    const created = await insertEventType(tx, { id: newId('evt'), ...draft });
    await announce(tx, created.hosts);
    return created;
  });
}

/** GET /v1/public/event-types/{slug}: a public type by its slug, for anyone; any other slug is a 404 (its existence is not revealed). */
export async function getPublicEventType(ctx: AppContext, slug: string): Promise<EventTypeView> {
  const type = await findEventTypeBySlug(ctx.db, slug);
  if (!type || !type.public) throw new AppError('not_found', `No public event type with slug "${slug}".`);
  return toEventTypeView(ctx, type);
}

export async function getEventType(ctx: AppContext, caller: Principal | null, id: string): Promise<EventTypeView> {
  return toEventTypeView(ctx, await readableEventType(ctx.db, caller, id));
}

export async function listEventTypes(
  ctx: AppContext,
  caller: Principal | null,
  query: { providerId?: string; limit: number; cursor?: string },
): Promise<Page<EventTypeView>> {
  const after = decodeCursor(query.cursor);
  const rows = await listEventTypeRows(ctx.db, {
    providerId: query.providerId ?? null,
    visibleTo: caller === null ? { userId: null } : null,
    after: after ? { createdAt: after.sortValue, id: after.id } : null,
    limit: query.limit + 1,
  });
  const page = toPage(rows, query.limit, (t) => t, (t) => encodeCursor(t.createdAt, t.id));
  return { data: await Promise.all(page.data.map((t) => toEventTypeView(ctx, t))), nextCursor: page.nextCursor };
}

/** Applies to bookings made afterwards: existing bookings keep their blocked ranges and answers. */
export async function patchEventType(ctx: AppContext, caller: Principal, id: string, patch: PatchEventTypeBody): Promise<EventTypeView> {
  return store(ctx, async (tx) => {
    const current = await findEventType(tx, id, { forUpdate: true });
    if (!current) throw notFound(id);
    requireAccess(caller, { on: 'eventType', action: 'manage', hostIds: current.hosts.map((h) => h.providerId) });
    const { slug, hosts, public: isPublic, active, ...specPatch } = patch;
    const nextHosts = hosts === undefined ? current.hosts : hostsFrom(hosts, caller);
    requireAccess(caller, { on: 'eventType', action: 'manage', hostIds: nextHosts.map((h) => h.providerId) });
    const draft: Draft = {
      slug: slug ?? current.slug,
      spec: { ...current.spec, ...specPatch } as EventTypeSpec,
      hosts: nextHosts,
      public: isPublic ?? current.public,
      active: active ?? current.active,
    };
    await validateDraft(tx, draft);
    const updated = await updateEventType(tx, { id, ...draft });
    await announce(tx, current.hosts, updated.hosts);
    return updated;
  });
}

export async function deleteEventType(ctx: AppContext, caller: Principal, id: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const current = await findEventType(tx, id, { forUpdate: true });
    if (!current) throw notFound(id);
    requireAccess(caller, { on: 'eventType', action: 'manage', hostIds: current.hosts.map((h) => h.providerId) });
    await softDeleteEventType(tx, id);
    await announce(tx, current.hosts);
  });
}
