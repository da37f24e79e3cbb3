import type { Queryable } from '../../db/database.js';

/** One availability change as the live stream reports it. */
export interface AvailabilityChange {
  providerId: string;
  version: number;
}

export type ChangeListener = (change: AvailabilityChange) => void;

/** Hears of every change, whoever subscribed; `reset` when changes may have been lost (forget what was learned). */
export interface AllChangesWatcher {
  change(change: AvailabilityChange): void;
  reset(): void;
}

/**
 * Where the live stream learns of availability changes made by any server
 * process. `EventFeed` (below) tails the events outbox; with REDIS_URL,
 * `RedisChangeFeed` (redis-change-feed.ts) has one process tail it and fan
 * out through pub/sub.
 */
export interface ChangeFeed {
  /** Calls listener for every later change of one of these providers; returns the unsubscribe. */
  subscribe(providerIds: Iterable<string>, listener: ChangeListener): () => void;
  /** Every change of every provider; returns the removal. */
  watchAll(watcher: AllChangesWatcher): () => void;
  /**
   * A local Date.now() such that every change committed before it has been
   * delivered to this process's listeners (0: no such time yet). For a feed
   * tailing the outbox it is the start of its last complete poll: the poll's
   * query sees everything committed before it started.
   */
  deliveredThrough(): number;
  /** Look for changes now rather than at the next poll (a NOTIFY said there is one). */
  wake(): void;
  stop(): Promise<void>;
}

/**
 * Listeners by provider id. A listener that throws is reported to onError
 * and does not stop the others.
 */
export class ChangeListeners {
  private readonly byProvider = new Map<string, Set<ChangeListener>>();

  constructor(private readonly onError?: (error: unknown) => void) {}

  /** `onLast` runs for each provider whose last listener leaves. */
  subscribe(providerIds: Iterable<string>, listener: ChangeListener, onLast?: (providerId: string) => void): () => void {
    const ids = [...new Set(providerIds)];
    for (const id of ids) {
      let set = this.byProvider.get(id);
      if (!set) this.byProvider.set(id, (set = new Set()));
      set.add(listener);
    }
    return () => {
      for (const id of ids) {
        const set = this.byProvider.get(id);
        if (!set) continue;
        set.delete(listener);
        if (set.size > 0) continue;
        this.byProvider.delete(id);
        onLast?.(id);
      }
    };
  }

  has(providerId: string): boolean {
    return this.byProvider.has(providerId);
  }

  dispatch(change: AvailabilityChange): void {
    const set = this.byProvider.get(change.providerId);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(change);
      } catch (error) {
        this.onError?.(error);
      }
    }
  }
}

export interface EventFeedOptions {
  pollMs?: number;
  /** Rows read per query; a poll pages on until a short page. */
  batch?: number;
  /** How far behind the newest seen created_at each poll looks again (see below). */
  lookbackMs?: number;
  onError?: (error: unknown) => void;
  /** Also called with every change, whoever listens (the Redis feed publishes or gates them). */
  onChange?: ChangeListener;
  /**
   * Dispatch the window that already exists at start instead of only marking
   * it seen: a feed taking over from another (a new leader, a fallback after
   * a Redis outage) re-delivers what the other may have missed. The receiver
   * drops what it already has (see VersionGate).
   */
  replayOnStart?: boolean;
}

interface Row {
  /** xmin of this statement's snapshot: every transaction below it had ended when the rows were read. */
  settled_below: string;
  /** The event's columns; null when no event matched (the row then only carries settled_below). */
  id: string | null;
  provider_id: string;
  version: number;
  tx_id: string;
  created_at: string;
  at_ms: number;
}

/**
 * Tails the `events` table for availability.changed and dispatches to this
 * process's subscribers. Works on the embedded database and PostgreSQL alike.
 *
 * Ordering: event ids are random text and created_at is now(), i.e. the
 * writing transaction's START time, so neither follows commit order: a
 * transaction that started earlier can commit after rows with a later
 * created_at were already read. What does bound it is the writing transaction's
 * id (tx_id): each poll's query also returns the xmin of its own snapshot,
 * below which every transaction had ended when it read, so no row with a
 * smaller tx_id can appear later; the next poll reads from there. Normally that
 * leaves only the transactions in flight at the last poll to read again, where
 * each poll re-read every event of a 10 s window: with two processes taking
 * holds, one such poll per NOTIFY read hundreds of rows, 1.3 ms of PostgreSQL
 * each (pg_stat_statements). A transaction left open holds that xmin back (any
 * database's: xids are the cluster's), so reads are also bounded, as before, by
 * a window of `lookbackMs` (default 10 s) behind the newest created_at seen: a
 * change is missed only if its transaction ran longer than that between start
 * and commit; booking and availability transactions are short (milliseconds).
 * Rows read twice are deduped by event id (a set pruned to the window).
 * created_at comes from the database's clock, so processes with skewed clocks agree.
 *
 * At start the window that already exists is read and marked seen without
 * being dispatched (unless replayOnStart): subscribers see changes from boot on.
 */
export class EventFeed implements ChangeFeed {
  private readonly listeners: ChangeListeners;
  private readonly seen = new Map<string, number>(); // event id -> created_at ms
  private highWater: string | null = null; // newest created_at seen, as the database's text (microseconds kept)
  private highWaterMs = 0;
  /** Transactions below this id had all ended when the last complete poll read (null: read the whole window). */
  private settledBelow: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  /** A wake() came while a poll ran: poll again as soon as it ends. */
  private wokenWhileRunning = false;
  private readonly watchers = new Set<AllChangesWatcher>();
  private deliveredUpTo = 0;
  private truncated = false;
  private readonly pollMs: number;
  private readonly batch: number;
  private readonly lookbackMs: number;
  /** Date.now() of the last poll that completed (a leader only vouches for the feed while it polls). */
  lastPollAt = 0;
  /** Called after each complete poll (the Redis leader tells the others how fresh its tail is). */
  onPolled: (() => void) | null = null;

  constructor(
    private readonly db: Queryable,
    private readonly options: EventFeedOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 250;
    this.batch = options.batch ?? 500;
    this.lookbackMs = options.lookbackMs ?? 10_000;
    this.listeners = new ChangeListeners(options.onError);
  }

  async start(): Promise<void> {
    const { rows } = await this.db.query<{ now: string; now_ms: number }>(
      `SELECT now()::text AS now, (extract(epoch FROM now()) * 1000)::float8 AS now_ms`,
    );
    this.highWater = rows[0]!.now;
    this.highWaterMs = Number(rows[0]!.now_ms);
    await this.poll(this.options.replayOnStart ?? false);
    this.schedule();
  }

  subscribe(providerIds: Iterable<string>, listener: ChangeListener): () => void {
    return this.listeners.subscribe(providerIds, listener);
  }

  watchAll(watcher: AllChangesWatcher): () => void {
    this.watchers.add(watcher);
    return () => void this.watchers.delete(watcher);
  }

  deliveredThrough(): number {
    return this.deliveredUpTo;
  }

  wake(): void {
    // Before the first scheduled poll, start() is still polling on its own.
    if (this.stopped || (this.timer === null && this.running === null)) return;
    if (this.running) {
      this.wokenWhileRunning = true;
      return;
    }
    clearTimeout(this.timer!);
    this.pollNow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.pollNow(), this.pollMs);
    this.timer.unref();
  }

  private pollNow(): void {
    this.timer = null;
    this.wokenWhileRunning = false;
    this.running = this.poll(true)
      .catch((error: unknown) => this.options.onError?.(error))
      .finally(() => {
        this.running = null;
        if (this.wokenWhileRunning && !this.stopped) this.pollNow();
        else this.schedule();
      });
  }

  /** One round: pages through the window behind the high-water mark. */
  private async poll(dispatch: boolean): Promise<void> {
    if (this.highWater === null) return;
    const startedAt = Date.now();
    // Keyset pages over (tx_id, id) from the settled mark, within the window.
    let after: { tx: string; id: string } | null = null;
    const from = this.highWater;
    let settledBelow: string | null = null;
    for (let page = 0; page < 100 && !this.stopped; page++) {
      const result: { rows: Row[] } = await this.db.query<Row>(
        `SELECT w.settled_below::text AS settled_below, e.*
           FROM (SELECT txid_snapshot_xmin(txid_current_snapshot()) AS settled_below) w
           LEFT JOIN LATERAL (
             SELECT id, provider_id, (data->>'version')::int AS version, tx_id::text AS tx_id, created_at::text AS created_at,
                    (extract(epoch FROM created_at) * 1000)::float8 AS at_ms
               FROM events
              WHERE type = 'availability.changed'
                AND ($1::bigint IS NULL OR tx_id >= $1::bigint)
                AND created_at >= $2::timestamptz - make_interval(secs => $3::double precision / 1000)
                AND ($4::bigint IS NULL OR (tx_id, id) > ($4::bigint, $5::text))
              ORDER BY tx_id, id
              LIMIT $6) e ON true`,
        [this.settledBelow, from, this.lookbackMs, after?.tx ?? null, after?.id ?? null, this.batch],
      );
      const rows = result.rows.filter((row) => row.id !== null);
      // The first page's mark is the lowest: what commits while later pages are read is above it.
      settledBelow ??= result.rows[0]!.settled_below;
      for (const row of rows) {
        const at = Number(row.at_ms);
        if (!this.seen.has(row.id!)) {
          this.seen.set(row.id!, at);
          if (dispatch) this.dispatch({ providerId: row.provider_id, version: Number(row.version) });
        }
        if (at > this.highWaterMs) {
          this.highWaterMs = at;
          this.highWater = row.created_at;
        }
      }
      const last: Row | undefined = rows[rows.length - 1];
      this.truncated = rows.length >= this.batch && page === 99;
      if (rows.length < this.batch || !last) break;
      after = { tx: last.tx_id, id: last.id! };
    }
    // A poll stopped short (page limit, stop) reads from the old mark again next time.
    if (!this.truncated && !this.stopped && settledBelow !== null) this.settledBelow = settledBelow;
    // Forget ids that fell out of the window: they will not be read again.
    const floor = this.highWaterMs - this.lookbackMs - 1_000;
    for (const [id, at] of this.seen) if (at < floor) this.seen.delete(id);
    this.lastPollAt = Date.now();
    // Only a poll that dispatched vouches for delivery (start()'s first one only marks the window seen),
    // and only one that read every page: stopping at the page limit would leave changes for the next.
    if (dispatch && !this.stopped && !this.truncated) this.deliveredUpTo = startedAt;
    this.onPolled?.();
  }

  private dispatch(change: AvailabilityChange): void {
    for (const watcher of this.watchers) {
      try {
        watcher.change(change);
      } catch (error) {
        this.options.onError?.(error);
      }
    }
    if (this.options.onChange) {
      try {
        this.options.onChange(change);
      } catch (error) {
        this.options.onError?.(error);
      }
    }
    this.listeners.dispatch(change);
  }
}
