import type { Counter } from '../../platform/metrics/metrics.js';
import type { RedisConnection } from '../../platform/redis.js';

/**
 * Computed slots, before the minimum-notice filter (the notice moves with the
 * clock, so it is applied when an answer is served, never stored).
 */
export interface CachedSlots {
  /** Slot starts, epoch ms ascending; each slot lasts the query's duration. */
  starts: number[];
  /**
   * The database clock's epoch ms at which the first hold counted in `starts`
   * lapses; from then on the entry is void. Holds lapse by time, without a
   * version bump, so the version alone cannot tell. null: no hold counted.
   */
  validUntil: number | null;
}

/**
 * The key says everything an answer depends on: the provider, its
 * availability version (bumped in the same transaction as every change of
 * schedule, bookings or calendar busy time), the duration and the range. A
 * range given as instants, or in an explicit zone, is keyed by its instants;
 * local dates read in the provider's own zone are keyed by their text (the
 * zone is part of the versioned data).
 *
 *   slotCacheKey('usr_1', 7, 'r:1800000000000:1800086400000', 30) // 'slots:usr_1:7:30:r:1800000000000:1800086400000'
 */
export function slotCacheKey(providerId: string, version: number | string, range: string, durationMinutes: number): string {
  return `slots:${providerId}:${version}:${durationMinutes}:${range}`;
}

export interface SlotCacheOptions {
  /** Entries kept in this process (least recently used go first). */
  maxEntries?: number;
  /** Estimated bytes kept in this process. */
  maxBytes?: number;
  /** The second level, shared by every process; null or absent: this process only. */
  redis?: RedisConnection | null;
  /** How long Redis keeps an entry (an entry never outlives its validity either). */
  redisTtlSeconds?: number;
  /** Prefix of the Redis keys. */
  redisPrefix?: string;
  /** `slot_cache_lookups_total{level,result}` and the Redis bypass counter. */
  lookups?: Counter;
  onRedisBypass?: () => void;
}

/**
 * An answer rendered from an entry (the response body and its tag), kept beside the entry in this
 * process. The HTTP layer keeps the body as bytes: sending a string re-encodes it on every request.
 */
export interface RenderedSlots {
  body: string | Buffer;
  etag: string;
}

const ENTRY_OVERHEAD_BYTES = 200;
const sizeOf = (key: string, entry: CachedSlots) => ENTRY_OVERHEAD_BYTES + key.length * 2 + entry.starts.length * 8;
const bytesOf = (body: string | Buffer) => (typeof body === 'string' ? body.length * 2 : body.length);
const renderedSize = (variant: string, rendered: RenderedSlots) =>
  ENTRY_OVERHEAD_BYTES + (variant.length + rendered.etag.length) * 2 + bytesOf(rendered.body);
/** Renders kept per entry: an entry is asked for in a few zones, and the notice cut-off moves with the clock. */
const MAX_RENDERS_PER_ENTRY = 4;

/** Hits of an entry between two moves to the end of the LRU order (see SlotCache.touch). */
const TOUCH_EVERY = 64;

interface Stored {
  entry: CachedSlots;
  /** Hits left before the next move to the end of the LRU order. */
  untilTouch: number;
  /** Of the entry and its renders. */
  bytes: number;
  renders?: Map<string, RenderedSlots>;
}

/**
 * Two levels: an LRU in this process (bounded in entries and bytes), then
 * Redis when configured. Stale answers are impossible by construction: the
 * key carries the version and an entry carries its validity limit; eviction
 * and TTLs only bound memory. A Redis error is a miss (the caller computes
 * the answer from the database), counted by onRedisBypass.
 */
export class SlotCache {
  private readonly entries = new Map<string, Stored>();
  private bytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly redis: RedisConnection | null;
  private readonly ttlMs: number;
  private readonly prefix: string;

  constructor(private readonly options: SlotCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 5_000;
    this.maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
    this.redis = options.redis ?? null;
    this.ttlMs = (options.redisTtlSeconds ?? 60) * 1000;
    this.prefix = options.redisPrefix ?? 'booking:';
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  /** The entry, if one is stored and still valid at the database time `dbNow`. */
  async get(key: string, dbNow: number): Promise<CachedSlots | null> {
    const local = this.entries.get(key);
    if (local && isValid(local.entry, dbNow)) {
      this.touch(key, local);
      this.count('memory', 'hit');
      return local.entry;
    }
    if (local) this.remove(key);
    this.count('memory', 'miss');
    if (!this.redis) return null;
    const shared = await this.readRedis(key);
    if (shared && isValid(shared, dbNow)) {
      this.count('redis', 'hit');
      this.remember(key, shared);
      return shared;
    }
    this.count('redis', 'miss');
    return null;
  }

  /** Stores an entry in both levels; the Redis write is not awaited (a lost write is a later miss). */
  set(key: string, entry: CachedSlots, dbNow: number): void {
    if (!isValid(entry, dbNow)) return;
    this.remember(key, entry);
    if (!this.redis) return;
    if (!this.redis.usable()) return this.options.onRedisBypass?.();
    const ttl = Math.max(1, Math.min(this.ttlMs, entry.validUntil === null ? this.ttlMs : Math.floor(entry.validUntil - dbNow)));
    this.redis.client.set(this.prefix + key, encodeEntry(entry), 'PX', ttl).catch(() => this.options.onRedisBypass?.());
  }

  /**
   * A render of `entry` kept under `variant` (what the render depends on beyond the entry), or null.
   * `entry` must be what get() or set() gave for `key` in this request: a render is only ever
   * returned beside that very object, so it is exactly as fresh as the entry the caller validated.
   */
  rendered(key: string, entry: CachedSlots, variant: string): RenderedSlots | null {
    const stored = this.entries.get(key);
    return stored?.entry === entry ? stored.renders?.get(variant) ?? null : null;
  }

  /**
   * get() and rendered() in one, for a caller that answers only from this process's memory: the
   * render kept under `variantOf(entry)` beside the entry stored for `key`, if that entry is valid at
   * `dbNow`; else null, with nothing counted (the caller goes on with get(), which counts). A hit is
   * counted as get()'s memory hit and makes the entry the most recently used, as get() does.
   */
  renderedInMemory(key: string, dbNow: number, variantOf: (entry: CachedSlots) => string): RenderedSlots | null {
    const stored = this.entries.get(key);
    if (!stored?.renders || !isValid(stored.entry, dbNow)) return null;
    const rendered = stored.renders.get(variantOf(stored.entry));
    if (!rendered) return null;
    this.touch(key, stored);
    this.count('memory', 'hit');
    return rendered;
  }

  /** Keeps a render of `entry` (see rendered()); nothing happens if `entry` is no longer the one stored. */
  keepRendered(key: string, entry: CachedSlots, variant: string, rendered: RenderedSlots): void {
    const stored = this.entries.get(key);
    if (stored?.entry !== entry || stored.renders?.has(variant)) return;
    const renders = (stored.renders ??= new Map());
    if (renders.size >= MAX_RENDERS_PER_ENTRY) {
      const [oldest, dropped] = renders.entries().next().value!;
      renders.delete(oldest);
      this.resize(stored, -renderedSize(oldest, dropped));
    }
    renders.set(variant, rendered);
    this.resize(stored, renderedSize(variant, rendered));
    this.evict();
  }

  /**
   * The most recently used entry goes last (eviction takes the first), at most once per TOUCH_EVERY
   * hits of it: moving it on every hit stored the request's own key string in the long-lived map
   * each time (a young string in an old table, which every scavenge then has to visit).
   */
  private touch(key: string, stored: Stored): void {
    if (--stored.untilTouch > 0) return;
    stored.untilTouch = TOUCH_EVERY;
    this.entries.delete(key);
    this.entries.set(key, stored);
  }

  private resize(stored: Stored, delta: number): void {
    stored.bytes += delta;
    this.bytes += delta;
  }

  private async readRedis(key: string): Promise<CachedSlots | null> {
    if (!this.redis!.usable()) {
      this.options.onRedisBypass?.();
      return null;
    }
    try {
      const text = await this.redis!.client.get(this.prefix + key);
      return text === null ? null : decodeEntry(text);
    } catch {
      this.options.onRedisBypass?.();
      return null;
    }
  }

  private remember(key: string, entry: CachedSlots): void {
    const bytes = sizeOf(key, entry);
    if (bytes > this.maxBytes) return;
    this.remove(key);
    this.entries.set(key, { entry, bytes, untilTouch: 1 });
    this.bytes += bytes;
    this.evict();
  }

  private evict(): void {
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.remove(oldest.value);
    }
  }

  private remove(key: string): void {
    const found = this.entries.get(key);
    if (!found) return;
    this.entries.delete(key);
    this.bytes -= found.bytes;
  }

  private count(level: 'memory' | 'redis', result: 'hit' | 'miss'): void {
    this.options.lookups?.labels(level, result).inc();
  }
}

const isValid = (entry: CachedSlots, dbNow: number) => entry.validUntil === null || dbNow < entry.validUntil;

/**
 * Redis text: `validUntil|starts`, starts as base-36 steps with runs folded,
 * so a month of 15-minute slots is a few dozen bytes:
 *   { starts: [t, t+900000, t+1800000, t+5400000], validUntil: null }
 *   -> '|<t in base 36>,jag0*2,255s0'   ('jag0' is 900000 in base 36; '*2' repeats the step)
 */
export function encodeEntry(entry: CachedSlots): string {
  const parts: string[] = [];
  let previous = 0;
  for (let i = 0; i < entry.starts.length; ) {
    const step = entry.starts[i]! - previous;
    let run = 1;
    while (i + run < entry.starts.length && entry.starts[i + run]! - entry.starts[i + run - 1]! === step && i > 0) run++;
    parts.push(run > 1 ? `${step.toString(36)}*${run}` : step.toString(36));
    previous = entry.starts[i + run - 1]!;
    i += run;
  }
  return `${entry.validUntil === null ? '' : String(entry.validUntil)}|${parts.join(',')}`;
}

export function decodeEntry(text: string): CachedSlots | null {
  const bar = text.indexOf('|');
  if (bar < 0) return null;
  const head = text.slice(0, bar);
  const validUntil = head === '' ? null : Number(head);
  if (validUntil !== null && !Number.isFinite(validUntil)) return null;
  const starts: number[] = [];
  let at = 0;
  const body = text.slice(bar + 1);
  for (const part of body === '' ? [] : body.split(',')) {
    const [stepText, runText] = part.split('*');
    const step = parseInt(stepText!, 36);
    const run = runText === undefined ? 1 : Number(runText);
    if (!Number.isFinite(step) || !Number.isInteger(run) || run < 1) return null;
    for (let k = 0; k < run; k++) starts.push((at += step));
  }
  return { starts, validUntil };
}
