import { deleteClosure, findClosure, insertClosure, listClosures as listClosureRows, providersOfClosure, type ClosureRecord } from '../../db/closures-repo.js';
import type { Transaction } from '../../db/database.js';
import { bumpAvailabilityVersion } from '../../db/users-repo.js';
import { AppError, invalidField } from '../../domain/errors.js';
import { isValidLocalDate } from '../../domain/zoned-time.js';
import { newId } from '../../platform/crypto/secrets.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../platform/pagination.js';
import { listedParticipants, requireAccess } from '../access/policy.js';
import type { AppContext, Principal } from '../context.js';
import { isSupportedLocalDate } from '../slots/time-range.js';
import type { CreateClosureBody } from '../../http/schemas/closures.js';

export interface ClosureView {
  id: string;
  name: string;
  date: string;
  recurrence: 'yearly' | null;
  providerIds: string[] | null;
}

const toView = (c: ClosureRecord): ClosureView => ({
  id: c.id, name: c.name, date: c.date, recurrence: c.recurrence === 'yearly' ? 'yearly' : null, providerIds: c.providerIds,
});

/** A closure moves the slots of every provider it names (or all): their caches and live streams hear of it. */
async function announce(tx: Transaction, providerIds: string[] | null): Promise<void> {
  for (const id of await providersOfClosure(tx, providerIds)) await bumpAvailabilityVersion(tx, id);
}

export async function createClosure(
  ctx: AppContext,
  caller: Principal,
  input: CreateClosureBody,
): Promise<ClosureView> {
  if (!isValidLocalDate(input.date) || !isSupportedLocalDate(input.date)) throw invalidField('date', `"${input.date}" is not a real date YYYY-MM-DD`);
  const providerIds = input.providerIds === undefined ? null : [...new Set(input.providerIds)];
  requireAccess(caller, { on: 'closure', action: 'manage', providerIds });
  const known = new Set(providerIds === null ? [] : await providersOfClosure(ctx.db, providerIds));
  for (const [i, id] of (providerIds ?? []).entries()) {
    if (!known.has(id)) throw invalidField(`providerIds/${i}`, `no provider with id "${id}"`);
  }
  const created = await ctx.db.transaction(async (tx) => {
    const c = await insertClosure(tx, {
      id: newId('cls'), name: input.name, date: input.date, recurrence: input.recurrence ?? 'none', providerIds, createdBy: caller.userId,
    });
    await announce(tx, c.providerIds);
    return c;
  });
  return toView(created);
}

/** Administrators see every closure; others the ones that apply to them (staff: to any of its providers). */
export async function listClosures(ctx: AppContext, caller: Principal, query: { limit: number; cursor?: string }): Promise<Page<ClosureView>> {
  const after = decodeCursor(query.cursor);
  const rows = await listClosureRows(ctx.db, {
    providerIds: listedParticipants(caller),
    after: after ? { createdAt: after.sortValue, id: after.id } : null,
    limit: query.limit + 1,
  });
  return toPage(rows, query.limit, toView, (c) => encodeCursor(c.createdAt, c.id));
}

export async function removeClosure(ctx: AppContext, caller: Principal, id: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const c = await findClosure(tx, id);
    if (!c) throw new AppError('not_found', `No closure with id "${id}".`);
    requireAccess(caller, { on: 'closure', action: 'manage', providerIds: c.providerIds });
    await deleteClosure(tx, id);
    await announce(tx, c.providerIds);
  });
}
