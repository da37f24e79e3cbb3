import { findSchedule } from '../../db/availability-repo.js';
import {
  findIntervalItem,
  findOverride,
  listIntervalItems,
  listOverrides,
  setScheduleZone,
  type IntervalItem,
} from '../../db/availability-items-repo.js';
import { bumpAvailabilityVersion } from '../../db/users-repo.js';
import { AppError, invalidField } from '../../domain/errors.js';
import { formatInstant, isValidLocalDate } from '../../domain/zoned-time.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../platform/pagination.js';
import type { AppContext, Principal } from '../context.js';
import { boundary, isSupportedLocalDate, requireTimeZone, SUPPORTED_RANGE_MESSAGE } from '../slots/time-range.js';
import { scheduleView, type OverrideView, type ScheduleView } from './availability.js';
import { providerTimeZone, requireProviderAccess } from './providers.js';
import type { ScheduleZoneBody } from '../../http/schemas/availability.js';

/**
 * Reading back what a provider stored: time off, one-off windows and date
 * overrides, each as a page or one by id; and changing only the schedule's
 * zone. Same access rule as the writes: the provider itself or an admin.
 */

export interface ItemListQuery {
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

export interface TimeOffView {
  id: string;
  start: string;
  end: string;
  reason: string | null;
}

export interface WindowView {
  id: string;
  start: string;
  end: string;
}

const timeOffView = (t: IntervalItem): TimeOffView => ({ id: t.id, start: formatInstant(t.start), end: formatInstant(t.end), reason: t.reason });
const windowView = (w: IntervalItem): WindowView => ({ id: w.id, start: formatInstant(w.start), end: formatInstant(w.end) });

const KINDS = {
  time_off: { noun: 'time off', view: timeOffView },
  availability_windows: { noun: 'availability window', view: windowView },
} as const;

type Kind = keyof typeof KINDS;

/**
 * Items overlapping [from, to): each an instant, or a local date in the
 * provider's zone (`to` inclusive, as everywhere in this API); either may be left out.
 */
async function listItems<K extends Kind>(
  ctx: AppContext,
  caller: Principal,
  providerId: string,
  kind: K,
  query: ItemListQuery,
): Promise<Page<ReturnType<(typeof KINDS)[K]['view']>>> {
  const provider = await requireProviderAccess(ctx.db, caller, providerId);
  const zone = query.from === undefined && query.to === undefined ? 'UTC' : await providerTimeZone(ctx.db, provider);
  const from = query.from === undefined ? null : boundary('from', query.from, zone, 0);
  const to = query.to === undefined ? null : boundary('to', query.to, zone, 1);
  if (from !== null && to !== null && from > to) throw invalidField('from', 'must not be after to');
  const after = decodeCursor(query.cursor);
  const rows = await listIntervalItems(ctx.db, kind, providerId, {
    from,
    to,
    after: after ? { start: after.sortValue, id: after.id } : null,
    limit: query.limit + 1,
  });
  const view = KINDS[kind].view as (item: IntervalItem) => ReturnType<(typeof KINDS)[K]['view']>;
  return toPage(rows, query.limit, view, (r) => encodeCursor(r.start, r.id));
}

async function getItem(ctx: AppContext, caller: Principal, providerId: string, kind: Kind, id: string): Promise<IntervalItem> {
  await requireProviderAccess(ctx.db, caller, providerId);
  const item = await findIntervalItem(ctx.db, kind, providerId, id);
  if (!item) throw new AppError('not_found', `No ${KINDS[kind].noun} with id "${id}".`);
  return item;
}

export const listTimeOff = (ctx: AppContext, caller: Principal, providerId: string, query: ItemListQuery) =>
  listItems(ctx, caller, providerId, 'time_off', query);

export const listOneOffWindows = (ctx: AppContext, caller: Principal, providerId: string, query: ItemListQuery) =>
  listItems(ctx, caller, providerId, 'availability_windows', query);

export const getTimeOff = async (ctx: AppContext, caller: Principal, providerId: string, id: string) =>
  timeOffView(await getItem(ctx, caller, providerId, 'time_off', id));

export const getOneOffWindow = async (ctx: AppContext, caller: Principal, providerId: string, id: string) =>
  windowView(await getItem(ctx, caller, providerId, 'availability_windows', id));

function localDateParam(path: string, date: string): string {
  if (!isValidLocalDate(date)) throw invalidField(path, `"${date}" is not a real date (YYYY-MM-DD)`);
  if (!isSupportedLocalDate(date)) throw invalidField(path, SUPPORTED_RANGE_MESSAGE);
  return date;
}

/** Overrides on local dates from..to (inclusive, either optional), by date. */
export async function listOverridesOf(
  ctx: AppContext,
  caller: Principal,
  providerId: string,
  query: ItemListQuery,
): Promise<Page<OverrideView>> {
  const from = query.from === undefined ? null : localDateParam('from', query.from);
  const to = query.to === undefined ? null : localDateParam('to', query.to);
  if (from !== null && to !== null && from > to) throw invalidField('from', 'must not be after to');
  await requireProviderAccess(ctx.db, caller, providerId);
  const after = decodeCursor(query.cursor);
  if (after && !isValidLocalDate(after.id)) throw invalidField('cursor', 'is not a cursor this API returned');
  const rows = await listOverrides(ctx.db, providerId, { from, to, after: after?.id ?? null, limit: query.limit + 1 });
  return toPage(rows, query.limit, (o) => o, (o) => encodeCursor(Date.parse(`${o.date}T00:00:00Z`), o.date));
}

export async function getOverride(ctx: AppContext, caller: Principal, providerId: string, date: string): Promise<OverrideView> {
  localDateParam('date', date);
  await requireProviderAccess(ctx.db, caller, providerId);
  const override = await findOverride(ctx.db, providerId, date);
  if (!override) throw new AppError('not_found', `No override on ${date}.`);
  return override;
}

/**
 * Moves the schedule to another zone: "Monday 09:00-17:00" stays Monday
 * 09:00-17:00 on the new zone's clock. Like every availability change it bumps
 * the provider's version in the same transaction (caches, live stream, webhooks).
 */
export async function changeScheduleZone(
  ctx: AppContext,
  caller: Principal,
  providerId: string,
  input: ScheduleZoneBody,
): Promise<ScheduleView> {
  const timeZone = requireTimeZone('timeZone', input.timeZone);
  await requireProviderAccess(ctx.db, caller, providerId);
  const saved = await ctx.db.transaction(async (tx) => {
    await setScheduleZone(tx, providerId, timeZone);
    await bumpAvailabilityVersion(tx, providerId);
    return (await findSchedule(tx, providerId))!;
  });
  return scheduleView(saved);
}
