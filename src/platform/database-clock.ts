import type { Queryable } from '../db/database.js';

/**
 * The database's clock read on this process's clock, without a round trip.
 *
 * Measured every refreshMs: the database's now() falls between the local
 * times before and after the query, so db - before is the largest offset
 * consistent with the measurement, and Date.now() + that offset is a time the
 * database's clock has certainly reached or passed. Erring late is what
 * validity limits need: an entry that lapses at a database time is dropped
 * at the latest exactly then, perhaps up to one round trip early.
 *
 * With `db` null the database shares this process's clock (the embedded
 * database runs on it): offset 0, nothing measured.
 */
export class DatabaseClock {
  private offsetMs: number | null;
  private measuredAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly db: Queryable | null,
    private readonly options: { refreshMs?: number; maxAgeMs?: number; onError?: (error: unknown) => void } = {},
  ) {
    this.offsetMs = db === null ? 0 : null;
  }

  /** The database's now() (epoch ms, rounded up), or null while no recent measurement exists. */
  now(): number | null {
    if (this.db === null) return Date.now();
    if (this.offsetMs === null || Date.now() - this.measuredAt > (this.options.maxAgeMs ?? 10_000)) return null;
    return Date.now() + this.offsetMs;
  }

  async measure(): Promise<void> {
    if (this.db === null) return;
    const before = Date.now();
    const { rows } = await this.db.query<{ now_ms: number }>(`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now_ms`);
    // Rounded up: the database's microseconds past `before`'s millisecond count as a whole one.
    this.offsetMs = Math.ceil(Number(rows[0]!.now_ms)) - before;
    this.measuredAt = Date.now();
  }

  async start(): Promise<void> {
    if (this.db === null) return;
    await this.measure();
    const refresh = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.measure().catch((error: unknown) => this.options.onError?.(error)).finally(refresh);
      }, this.options.refreshMs ?? 1_000);
      this.timer.unref();
    };
    refresh();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.measuredAt = 0;
  }
}
