/**
 * The live stream across two real server processes through Redis: one leader
 * tails the outbox and publishes; a subscriber on the other process hears a
 * hold within a second. Then the leader is killed (SIGKILL, so its lease is
 * not released): the survivor keeps delivering (its local tail, then its own
 * leadership). PostgreSQL (TEST_DATABASE_URL) and Redis (TEST_REDIS_URL).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, createProviderWithHours, http, slotsOn } from '../concurrency/race.js';
import { upcomingDate } from '../helpers/api.js';
import { PROCESS_ADMIN_KEY, startTwoServersOnOneDatabase, type ServerProcess } from '../helpers/server-processes.js';
import { openStream, type StreamClient } from '../helpers/ws-client.js';

const REDIS_URL = process.env.TEST_REDIS_URL;

describe.skipIf(!REDIS_URL || !process.env.TEST_DATABASE_URL)('the live stream across two processes through Redis', () => {
  const prefix = `test:${randomBytes(4).toString('hex')}:`;
  let cluster: Awaited<ReturnType<typeof startTwoServersOnOneDatabase>> | null = null;
  let redis: Redis;
  const streams: StreamClient[] = [];

  beforeAll(async () => {
    redis = new Redis(REDIS_URL!);
    cluster = await startTwoServersOnOneDatabase({ REDIS_URL: REDIS_URL!, REDIS_KEY_PREFIX: prefix });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await cluster?.stop();
    redis?.disconnect();
  }, 60_000);

  const version = async (providerId: string) =>
    Number((await cluster!.sql.query<{ v: number }>('SELECT availability_version AS v FROM users WHERE id = $1', [providerId])).rows[0]!.v);
  const leaderPid = async () => {
    const token = await redis.get(`${prefix}feed:leader`);
    return token === null ? null : Number(token.split(':')[1]);
  };

  it('one leader; a subscriber on the other process hears holds within a second, and again after the leader dies', { timeout: 90_000 }, async () => {
    const servers = cluster!.servers;
    // Both processes start within a moment; the lease goes to one of them.
    let pid: number | null = null;
    for (let i = 0; i < 50 && pid === null; i++) {
      pid = await leaderPid();
      if (pid === null) await new Promise((r) => setTimeout(r, 100));
    }
    const leader = servers.find((s) => s.child.pid === pid);
    expect(leader, `the lease names pid ${pid}`).toBeDefined();
    const follower = servers.find((s) => s !== leader)!;
    const admin = http(leader!.baseUrl, PROCESS_ADMIN_KEY);
    const provider = await createProviderWithHours(admin);
    const [customer] = await createClients(admin, 1);
    const stream = await openStream(`${follower.baseUrl.replace(/^http/, 'ws')}/v1/stream?apiKey=${encodeURIComponent(customer!.apiKey)}`);
    streams.push(stream);
    stream.send({ type: 'subscribe', providerIds: [provider.id] });
    await stream.next((m) => m.type === 'subscribed');

    const slots = await slotsOn(http(leader!.baseUrl, customer!.apiKey), provider.id, upcomingDate(1));
    const holdThenHear = async (via: ServerProcess, slot: { start: string }, timeoutMs: number) => {
      const res = await http(via.baseUrl, customer!.apiKey)('POST', '/v1/bookings', { providerId: provider.id, start: slot.start, duration: 60 });
      expect(res.status, res.text).toBe(201);
      const started = Date.now();
      const expected = await version(provider.id);
      await stream.next((m) => m.type === 'availability.changed' && m.version === expected, timeoutMs);
      return Date.now() - started;
    };
    const latencies = [];
    for (const slot of [slots[0]!, slots[8]!, slots[16]!]) latencies.push(await holdThenHear(leader!, slot, 1_000));
    console.log(`leader -> Redis -> follower's socket: ${latencies.join(', ')} ms`);

    // Once the follower gets its changes through Redis only (its boot-time local tail has stopped),
    // the leader dies without releasing its lease.
    const gauge = async (server: ServerProcess, name: string) => {
      const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
      return Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1]);
    };
    for (let i = 0; i < 100 && (await gauge(follower, 'stream_local_tail')) !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await gauge(follower, 'stream_local_tail')).toBe(0);
    expect(await gauge(leader!, 'stream_leader')).toBe(1);
    expect(await gauge(follower, 'stream_leader')).toBe(0);
    leader!.child.kill('SIGKILL');
    await leader!.exited;
    // Nobody publishes until the follower misses the heartbeat (4 s) and tails the outbox itself.
    const duringFailover = await holdThenHear(follower, slots[24]!, 8_000);
    console.log(`a change right after the leader died reached the socket in ${duringFailover} ms`);
    for (let i = 0; i < 100 && (await leaderPid()) !== follower.child.pid; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await leaderPid()).toBe(follower.child.pid);
    const after = await holdThenHear(follower, slots[28]!, 1_000);
    console.log(`after the failover: ${after} ms`);
    // No repeats: each version at most once on the socket.
    const versions = stream.messages.filter((m) => m.type === 'availability.changed').map((m) => m.version);
    expect(new Set(versions).size).toBe(versions.length);
  });
});
