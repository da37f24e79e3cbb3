import type { AppContext } from '../context.js';
import { slotCacheKey, type CachedSlots, type RenderedSlots } from './slot-cache.js';

/**
 * What one kind of slot question (v1 provider slots, event-type slots) tells
 * the shared serving path: how to ask for the version its answer depends on,
 * how to compute the starts, and the two clock-dependent cuts (minimum notice,
 * rolling booking window) that are applied when serving, never stored.
 * Both cuts are filters on starts: the grid does not depend on them, so
 * cutting a list computed without them gives the list computed with them.
 */
export interface StartsSource {
  duration: number;
  outZone: string | undefined;
  earliestStart: number;
  latestStartExclusive: number;
  /** The cache key's parts (one small query): who the answer is about, its version, the range. */
  head(): Promise<Head>;
  /** head() when this process knows the version and the database's clock; undefined otherwise (uncounted: see renderedInMemory). */
  headInMemory?(): Head | undefined;
  /** Starts ascending, without the two cuts, with the version read in the same statement as the data. */
  compute(): Promise<{ starts: number[]; version: number | string; validUntil: number | null; dbNow: number; extra?: number[] }>;
  /** Answers with per-start extras (seats left) are not cached: computed every time. */
  uncached?: boolean;
}

interface Head { scope: string; version: number | string; rangeKey: string; dbNow: number }

export interface FoundStarts {
  duration: number;
  outZone: string | undefined;
  /** Ascending; the answer is starts[first..end). */
  starts: number[];
  /** Per start, beside `starts` (seats left), when the source gives one. */
  extra?: number[];
  first: number;
  end: number;
  /**
   * Renders through `make`, or returns the render kept beside the cache entry
   * for the same output zone and cuts (a render lives and dies with its entry,
   * so it is never staler than the entry).
   */
  render(make: () => RenderedSlots): RenderedSlots;
}

function cut(starts: number[], earliest: number, latestExclusive: number): { first: number; end: number } {
  let first = 0;
  while (first < starts.length && starts[first]! < earliest) first++;
  let end = starts.length;
  while (end > first && starts[end - 1]! >= latestExclusive) end--;
  return { first, end };
}

/** What a render depends on beyond its entry: the output zone and where the two cuts fall. */
const variantOf = (outZone: string | undefined, bounds: { first: number; end: number }) => `${outZone ?? ''}|${bounds.first}|${bounds.end}`;

/**
 * The answer servedStarts would render, when everything it takes is already in this process's memory
 * (the head, a valid cache entry, a render of that entry for these cuts): found synchronously, without
 * a promise or the database. Slot polls are mostly this case, and the promises and objects of the
 * general path were a third of what such a read allocated. undefined: servedStarts answers instead
 * (and counts); an answer here counts what servedStarts counts for it (a memory version, a memory hit).
 */
export function renderedInMemory(ctx: AppContext, source: StartsSource): RenderedSlots | undefined {
  const cache = ctx.slotCache;
  if (!cache || source.uncached || !source.headInMemory) return undefined;
  const head = source.headInMemory();
  if (!head) return undefined;
  const key = slotCacheKey(head.scope, head.version, head.rangeKey, source.duration);
  const rendered = cache.renderedInMemory(key, head.dbNow, (entry) =>
    variantOf(source.outZone, cut(entry.starts, source.earliestStart, source.latestStartExclusive)));
  if (!rendered) return undefined;
  ctx.metrics.versionLookups.labels('memory').inc();
  return rendered;
}

export async function servedStarts(ctx: AppContext, source: StartsSource): Promise<FoundStarts> {
  const cache = ctx.slotCache;
  const base = { duration: source.duration, outZone: source.outZone };
  if (!cache || source.uncached) {
    const { starts, extra } = await source.compute();
    return {
      ...base, starts, ...(extra ? { extra } : {}), ...cut(starts, source.earliestStart, source.latestStartExclusive), render: (make) => make(),
    };
  }
  const head = await source.head();
  const keyOf = (version: number | string) => slotCacheKey(head.scope, version, head.rangeKey, source.duration);
  let key = keyOf(head.version);
  let entry: CachedSlots | null = await cache.get(key, head.dbNow);
  if (!entry) {
    const computed = await source.compute();
    // Stored under the version read with the data (one statement), which may be newer than head's.
    key = keyOf(computed.version);
    entry = { starts: computed.starts, validUntil: computed.validUntil };
    cache.set(key, entry, computed.dbNow);
  }
  const kept = entry;
  const bounds = cut(kept.starts, source.earliestStart, source.latestStartExclusive);
  const variant = variantOf(source.outZone, bounds);
  return {
    ...base,
    starts: kept.starts,
    ...bounds,
    render(make) {
      const found = cache.rendered(key, kept, variant);
      if (found) return found;
      const rendered = make();
      cache.keepRendered(key, kept, variant, rendered);
      return rendered;
    },
  };
}
