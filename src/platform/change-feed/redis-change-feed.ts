import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Queryable } from '../../db/database.js';
import type { Registry } from '../metrics/metrics.js';
import { ChangeListeners, EventFeed, type AllChangesWatcher, type AvailabilityChange, type ChangeFeed, type ChangeListener } from './change-feed.js';
import type { RedisConnection } from '../redis.js';

/**
 * Passes a change on only when its version is higher than the last one passed
 * for that provider. Versions of one provider only grow (the bump row-locks
 * the provider), so this drops repeats (a new leader or a fallback re-reading
 * the outbox) and superseded versions, never news.
 */
export class VersionGate {
  private readonly last = new Map<string, number>();

  pass(change: AvailabilityChange): boolean {
    const previous = this.last.get(change.providerId);
    if (previous !== undefined && change.version <= previous) return false;
    this.last.set(change.providerId, change.version);
    return true;
  }

  forget(providerId: string): void {
    this.last.delete(providerId);
  }
}

export interface RedisChangeFeedOptions {
  /** Prefix of the lock key and the channel. */
  prefix?: string;
  /** The leader's lease; renewed every renewMs. */
  leaseMs?: number;
  renewMs?: number;
  /** How often the leader says it is alive (while its outbox tail polls). */
  heartbeatMs?: number;
  /** Without a heartbeat (or a change) for this long, this process tails the outbox itself. */
  heartbeatTimeoutMs?: number;
  /** How long the Redis path must be healthy again before the local tail stops. */
  recoveryGraceMs?: number;
  /** The outbox poll of the leader and of the fallback. */
  pollMs?: number;
  onError?: (error: unknown) => void;
  /** The local tail started (Redis down, or no leader heard): degraded but working. */
  onFallback?: () => void;
}

// Renew only our own lease; release only our own (a lease that lapsed may be someone else's now).
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * The live stream across processes through Redis, behind ChangeFeed.
 *
 * The events outbox stays the source of truth. One process at a time, the
 * leader (SET lock NX PX leaseMs, renewed every renewMs), tails it with an
 * EventFeed and PUBLISHes each change, plus a heartbeat every heartbeatMs
 * while its tail polls. Every process SUBSCRIBEs and hands changes to its own
 * stream sockets through a VersionGate.
 *
 * When this process hears nothing on the channel for heartbeatTimeoutMs
 * (Redis down, its subscription lost, the leader dead and its lease not yet
 * lapsed), it tails the outbox itself, replaying the recent window so that
 * what the Redis path lost in the gap still arrives; once the Redis path has
 * been healthy for recoveryGraceMs the local tail stops. A change is never
 * lost (it is in the outbox, and every tail that starts re-reads the last
 * 10 s); when the leader dies it arrives up to ~heartbeatTimeoutMs (1.5 s)
 * late, and a replay may repeat a change made just before a socket subscribed.
 * Why not have every process tail the outbox always: that is N polls every
 * 250 ms on the database; this is one, plus a PUBLISH per change.
 */
export class RedisChangeFeed implements ChangeFeed {
  private readonly listeners: ChangeListeners;
  private readonly gate = new VersionGate();
  /** The lease's value: which process leads (host:pid), and a random part unique to this feed. */
  private readonly token = `${hostname()}:${process.pid}:${randomUUID()}`;
  private readonly lockKey: string;
  private readonly channel: string;
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly heartbeatMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly graceMs: number;
  private subscriber: Redis | null = null;
  private subscribed = false;
  private lastHeard = 0;
  private silentUntil = 0;
  private healthySince: number | null = null;
  private publisher: EventFeed | null = null;
  private fallback: EventFeed | null = null;
  private timers: NodeJS.Timeout[] = [];
  private busy: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private readonly watchers = new Set<AllChangesWatcher>();
  /** Through Redis: the leader's deliveredThrough, as of its last heartbeat, on this process's clock (0: none since subscribing). */
  private redisThrough = 0;
  /** The leader and its epoch (bumped when a change could not be published) heard last: a new one means changes may be lost. */
  private heardFrom = '';
  private epoch = 0;

  constructor(
    private readonly db: Queryable,
    private readonly redis: RedisConnection,
    private readonly options: RedisChangeFeedOptions = {},
  ) {
    const prefix = options.prefix ?? 'booking:';
    this.lockKey = `${prefix}feed:leader`;
    this.channel = `${prefix}feed:availability`;
    this.leaseMs = options.leaseMs ?? 5_000;
    this.renewMs = options.renewMs ?? 1_500;
    this.heartbeatMs = options.heartbeatMs ?? 500;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 1_500;
    this.graceMs = options.recoveryGraceMs ?? 2_000;
    this.listeners = new ChangeListeners(options.onError);
  }

  /** This process publishes the outbox for all (tests and logs). */
  get isLeader(): boolean {
    return this.publisher !== null;
  }

  /** This process tails the outbox for its own sockets (Redis path unhealthy). */
  get usingFallback(): boolean {
    return this.fallback !== null;
  }

  async start(): Promise<void> {
    const subscriber = (this.subscriber = this.redis.duplicate());
    subscriber.on('message', (_channel: string, message: string) => this.onMessage(message));
    subscriber.on('ready', () => {
      subscriber.subscribe(this.channel).then(() => {
        this.subscribed = true;
        // What was published while we were not subscribed is lost to us: forget what depends on it.
        this.resetWatchers();
      }, (error: unknown) => this.options.onError?.(error));
    });
    subscriber.on('close', () => {
      this.subscribed = false;
      this.redisThrough = 0;
    });
    await this.lead();
    await this.checkHealth(); // nothing heard yet: the local tail runs until the Redis path proves itself
    this.every(this.renewMs, () => this.lead());
    this.every(this.heartbeatMs, async () => this.beat());
    this.every(Math.max(50, Math.floor(this.heartbeatTimeoutMs / 6)), () => this.checkHealth());
  }

  subscribe(providerIds: Iterable<string>, listener: ChangeListener): () => void {
    return this.listeners.subscribe(providerIds, listener, (providerId) => this.gate.forget(providerId));
  }

  watchAll(watcher: AllChangesWatcher): () => void {
    this.watchers.add(watcher);
    return () => void this.watchers.delete(watcher);
  }

  /** The later of the two paths: the leader's tail through Redis (while subscribed), this process's own tail. */
  deliveredThrough(): number {
    return Math.max(this.subscribed ? this.redisThrough : 0, this.fallback?.deliveredThrough() ?? 0);
  }

  wake(): void {
    this.publisher?.wake();
    this.fallback?.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.busy.catch(() => {});
    await this.fallback?.stop();
    this.fallback = null;
    if (this.publisher) {
      await this.publisher.stop();
      this.publisher = null;
      // Hand over now rather than after the lease: another process takes it at its next renewal.
      if (this.redis.usable()) await this.redis.client.eval(RELEASE, 1, this.lockKey, this.token).catch(() => {});
    }
    this.subscriber?.disconnect(false);
  }

  /** Runs fn every ms, one run at a time (a slow database or Redis does not pile runs up). */
  private every(ms: number, fn: () => Promise<void>): void {
    const timer = setInterval(() => {
      if (this.stopped) return;
      this.busy = this.busy.then(fn).catch((error: unknown) => this.options.onError?.(error));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  private onMessage(message: string): void {
    this.lastHeard = Date.now();
    let value: unknown;
    try {
      value = JSON.parse(message);
    } catch {
      return;
    }
    const { providerId, version, heartbeat, leader, epoch, ageMs } = (value ?? {}) as Record<string, unknown>;
    if (heartbeat === true && typeof leader === 'string') {
      // Published on the connection that published the changes, after them: Redis keeps their order.
      const from = `${leader}#${String(epoch)}`;
      if (from !== this.heardFrom) {
        this.heardFrom = from;
        this.resetWatchers();
      }
      if (typeof ageMs === 'number') this.redisThrough = Math.max(this.redisThrough, this.lastHeard - ageMs);
      return;
    }
    if (typeof providerId === 'string' && typeof version === 'number' && Number.isInteger(version)) {
      this.deliver({ providerId, version });
    }
  }

  private deliver(change: AvailabilityChange): void {
    for (const watcher of this.watchers) {
      try {
        watcher.change(change);
      } catch (error) {
        this.options.onError?.(error);
      }
    }
    if (this.listeners.has(change.providerId) && this.gate.pass(change)) this.listeners.dispatch(change);
  }

  /** Take, keep or lose the lease. */
  private async lead(): Promise<void> {
    if (this.stopped) return;
    let mine = false;
    try {
      mine = this.publisher
        ? (await this.redis.client.eval(RENEW, 1, this.lockKey, this.token, String(this.leaseMs))) === 1
        : (await this.redis.client.set(this.lockKey, this.token, 'PX', this.leaseMs, 'NX')) === 'OK';
    } catch {
      mine = false; // Redis unreachable: nobody can be sure of the lease, so do not publish
    }
    if (!mine) {
      await this.publisher?.stop();
      this.publisher = null;
      return;
    }
    if (!this.publisher) {
      const publisher = new EventFeed(this.db, {
        pollMs: this.options.pollMs ?? 250,
        replayOnStart: true,
        onChange: (change) => this.publish(JSON.stringify(change), true),
        ...(this.options.onError ? { onError: this.options.onError } : {}),
      });
      publisher.onPolled = () => this.beat();
      await publisher.start();
      this.publisher = publisher;
      this.beat();
    }
  }

  /** The leader vouches for the Redis path only while its outbox tail polls. */
  private beat(): void {
    if (!this.publisher || Date.now() < this.silentUntil) return;
    const now = Date.now();
    if (now - this.publisher.lastPollAt >= this.heartbeatTimeoutMs / 2) return;
    const through = this.publisher.deliveredThrough();
    // ageMs, not a time: the receivers' clocks may differ from ours, a duration does not.
    this.publish(JSON.stringify({ heartbeat: true, leader: this.token, epoch: this.epoch, ...(through > 0 ? { ageMs: now - through } : {}) }), false);
  }

  private resetWatchers(): void {
    for (const watcher of this.watchers) {
      try {
        watcher.reset();
      } catch (error) {
        this.options.onError?.(error);
      }
    }
  }

  /**
   * A change that could not be published would be lost to every other process
   * while heartbeats kept them from looking: go silent instead, so that they
   * fall back to their own tails, whose replay brings the change.
   */
  private publish(message: string, isChange: boolean): void {
    this.redis.client.publish(this.channel, message).catch((error: unknown) => {
      if (isChange) {
        this.silentUntil = Date.now() + 2 * this.heartbeatTimeoutMs;
        this.epoch++; // the next heartbeat tells the others to forget what they learned
      }
      this.options.onError?.(error);
    });
  }

  /** The local tail runs while the Redis path is not known to deliver. */
  private async checkHealth(): Promise<void> {
    if (this.stopped) return;
    const now = Date.now();
    const healthy = this.subscribed && now - this.lastHeard < this.heartbeatTimeoutMs;
    if (!healthy) {
      this.healthySince = null;
      if (this.fallback) return;
      const fallback = new EventFeed(this.db, {
        pollMs: this.options.pollMs ?? 250,
        replayOnStart: true,
        onChange: (change) => this.deliver(change),
        ...(this.options.onError ? { onError: this.options.onError } : {}),
      });
      await fallback.start();
      this.fallback = fallback;
      this.options.onFallback?.();
      return;
    }
    this.healthySince ??= now;
    if (this.fallback && now - this.healthySince >= this.graceMs) {
      await this.fallback.stop();
      this.fallback = null;
    }
  }
}

/** The feed's state in /metrics: who leads, and who is tailing the outbox for itself (degraded). */
export function registerFeedGauges(registry: Registry, feed: RedisChangeFeed): void {
  registry.gauge('stream_leader', '1 while this process holds the lease and publishes the events outbox to Redis.', [], (g) => g.set(feed.isLeader ? 1 : 0));
  registry.gauge(
    'stream_local_tail',
    '1 while this process tails the events outbox for its own sockets (Redis down or no leader heard), 0 while changes arrive through Redis.',
    [],
    (g) => g.set(feed.usingFallback ? 1 : 0),
  );
}
