import { describe, expect, it } from 'vitest';
import { Registry } from '../../src/platform/metrics/metrics.js';
import type { RedisConnection } from '../../src/platform/redis.js';
import { decodeEntry, encodeEntry, SlotCache, slotCacheKey, type CachedSlots } from '../../src/features/slots/slot-cache.js';

const T = 1_800_000_000_000;
const Q = 15 * 60_000;
const entry = (n: number, validUntil: number | null = null): CachedSlots => ({ starts: Array.from({ length: n }, (_, i) => T + i * Q), validUntil });

function lookups() {
  const counter = new Registry().counter('slot_cache_lookups_total', 'x', ['level', 'result']);
  return { counter, value: (level: string, result: string) => counter.labels(level, result).value };
}

/** A stand-in for the Redis connection: a Map, or a Redis that fails every command. */
function fakeRedis(mode: 'ok' | 'failing' | 'down') {
  const store = new Map<string, string>();
  const fail = () => Promise.reject(new Error('Connection is closed.'));
  const client = {
    get: (key: string) => (mode === 'ok' ? Promise.resolve(store.get(key) ?? null) : fail()),
    set: (key: string, value: string) => (mode === 'ok' ? (store.set(key, value), Promise.resolve('OK')) : fail()),
  };
  const connection = { client, usable: () => mode !== 'down' } as unknown as RedisConnection;
  return { connection, store };
}

describe('slot cache', () => {
  it('keys by provider, version, duration and range', () => {
    expect(slotCacheKey('usr_1', 7, 'r:1:2', 30)).toBe('slots:usr_1:7:30:r:1:2');
    expect(slotCacheKey('usr_1', 8, 'r:1:2', 30)).not.toBe(slotCacheKey('usr_1', 7, 'r:1:2', 30));
  });

  it('an entry is void from its validity limit on (a counted hold lapsed)', async () => {
    const cache = new SlotCache();
    cache.set('k', entry(3, T + 1000), T);
    expect(await cache.get('k', T + 999)).toEqual(entry(3, T + 1000));
    expect(await cache.get('k', T + 1000)).toBeNull();
    expect(cache.size.entries).toBe(0);
    cache.set('void', entry(1, T), T); // already void: not stored
    expect(await cache.get('void', T - 1)).toBeNull();
  });

  it('keeps at most maxEntries and maxBytes, dropping the least recently used', async () => {
    const cache = new SlotCache({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) cache.set(key, entry(1), T);
    await cache.get('a', T); // a is now the most recent: b goes first
    cache.set('d', entry(1), T);
    expect(await cache.get('b', T)).toBeNull();
    expect(await cache.get('a', T)).not.toBeNull();
    expect(cache.size.entries).toBe(3);

    const small = new SlotCache({ maxBytes: 20_000 });
    for (let i = 0; i < 50; i++) small.set(`k${i}`, entry(500), T); // ~4 KB each
    expect(small.size.bytes).toBeLessThanOrEqual(20_000);
    expect(small.size.entries).toBeGreaterThan(0);
    small.set('huge', entry(10_000), T); // larger than the whole budget: never stored
    expect(await small.get('huge', T)).toBeNull();
  });

  it('counts memory and Redis hits and misses; a second process finds what the first stored', async () => {
    const { counter, value } = lookups();
    const redis = fakeRedis('ok');
    const a = new SlotCache({ redis: redis.connection, lookups: counter });
    const b = new SlotCache({ redis: redis.connection, lookups: counter });
    expect(await a.get('k', T)).toBeNull();
    a.set('k', entry(96, T + 60_000), T);
    await new Promise((r) => setImmediate(r));
    expect(await b.get('k', T)).toEqual(entry(96, T + 60_000));
    expect(await b.get('k', T)).toEqual(entry(96, T + 60_000)); // now from b's memory
    expect([value('memory', 'miss'), value('redis', 'miss'), value('redis', 'hit'), value('memory', 'hit')]).toEqual([2, 1, 1, 1]);
    expect(await b.get('k', T + 60_000)).toBeNull(); // validity travels with the entry
  });

  it.each(['failing', 'down'] as const)('a Redis that is %s is bypassed and counted', async (mode) => {
    let bypassed = 0;
    const cache = new SlotCache({ redis: fakeRedis(mode).connection, onRedisBypass: () => bypassed++ });
    expect(await cache.get('k', T)).toBeNull();
    cache.set('k', entry(2), T);
    await new Promise((r) => setImmediate(r));
    expect(await cache.get('k', T)).toEqual(entry(2)); // the process's own level still works
    expect(bypassed).toBe(2);
  });

  it('encodes entries compactly and decodes them exactly', () => {
    const day = entry(96, T + 123.5);
    const text = encodeEntry(day);
    expect(text.length).toBeLessThan(40);
    expect(decodeEntry(text)).toEqual(day);
    const ragged: CachedSlots = { starts: [T, T + Q, T + 3 * Q, T + 4 * Q, T + 5 * Q, T + 100 * Q], validUntil: null };
    expect(decodeEntry(encodeEntry(ragged))).toEqual(ragged);
    expect(decodeEntry(encodeEntry({ starts: [], validUntil: null }))).toEqual({ starts: [], validUntil: null });
    expect(decodeEntry('garbage')).toBeNull();
  });

  it('keeps renders beside their entry only: a replaced or evicted entry takes its renders along', async () => {
    const cache = new SlotCache();
    const first = entry(3);
    cache.set('k', first, T);
    const body = { body: '{"slots":[]}', etag: '"tag"' };
    cache.keepRendered('k', first, 'UTC|0', body);
    expect(cache.rendered('k', first, 'UTC|0')).toBe(body);
    expect(cache.rendered('k', first, 'UTC|1')).toBeNull(); // another variant (zone or notice cut-off)
    expect(cache.rendered('k', entry(3), 'UTC|0')).toBeNull(); // an equal entry that is not the stored one
    const second = entry(3);
    cache.set('k', second, T); // the entry was recomputed: its old renders are gone
    expect(cache.rendered('k', second, 'UTC|0')).toBeNull();
    cache.keepRendered('k', first, 'UTC|0', body); // a render of the replaced entry is not kept
    expect(cache.rendered('k', second, 'UTC|0')).toBeNull();
    expect(await cache.get('k', T)).toBe(second);
  });

  it('counts renders in the byte budget and keeps a few per entry', () => {
    const cache = new SlotCache();
    const e = entry(1);
    cache.set('k', e, T);
    const base = cache.size.bytes;
    const render = (n: number) => ({ body: 'x'.repeat(1000), etag: `"${n}"` });
    for (let n = 0; n < 6; n++) cache.keepRendered('k', e, `UTC|${n}`, render(n));
    expect(cache.rendered('k', e, 'UTC|0')).toBeNull(); // the oldest went
    expect(cache.rendered('k', e, 'UTC|5')).toEqual(render(5));
    const perRender = (cache.size.bytes - base) / 4;
    expect(perRender).toBeGreaterThan(2000); // UTF-16: two bytes a character

    const small = new SlotCache({ maxBytes: 10_000 });
    for (let i = 0; i < 10; i++) {
      const x = entry(1);
      small.set(`k${i}`, x, T);
      small.keepRendered(`k${i}`, x, 'UTC|0', render(i));
    }
    expect(small.size.bytes).toBeLessThanOrEqual(10_000);
  });
});
