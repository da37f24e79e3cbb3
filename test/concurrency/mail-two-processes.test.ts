/**
 * Two real server processes on one PostgreSQL database draining one mail
 * outbox into one SMTP server: every change's mail arrives exactly once,
 * whichever process claims it (FOR UPDATE SKIP LOCKED, a lease, a unique key
 * per mail). PostgreSQL only (TEST_DATABASE_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upcomingDate } from '../helpers/api.js';
import { PROCESS_ADMIN_KEY, startTwoServersOnOneDatabase, type ServerProcess } from '../helpers/server-processes.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { createClients, createProviderWithHours, http, slotsOn, type Http } from './race.js';

describe.skipIf(!process.env.TEST_DATABASE_URL)('two server processes sending one outbox', () => {
  let cluster: Awaited<ReturnType<typeof startTwoServersOnOneDatabase>> | null = null;
  let servers: ServerProcess[] = [];
  let sink: SmtpSink;
  let admins: Http[] = [];

  beforeAll(async () => {
    sink = await startSmtpSink();
    cluster = await startTwoServersOnOneDatabase({
      SMTP_URL: sink.url, MAIL_FROM: 'Bookings <bookings@example.test>', MAIL_POLL_MS: '20', REMINDER_MINUTES: '1440',
    });
    servers = cluster.servers;
    admins = servers.map((s) => http(s.baseUrl, PROCESS_ADMIN_KEY));
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    await sink?.stop();
  }, 60_000);

  it('16 bookings confirmed through both processes: 32 mails, each sent once, by whichever process claimed it', { timeout: 120_000 }, async () => {
    const provider = await createProviderWithHours(admins[0]!);
    const clients = await createClients(admins[1]!, 16);
    const days = [upcomingDate(1), upcomingDate(2)];
    // Hourly starts 09:00-16:00 on two days: 16 one-hour bookings that do not overlap.
    const starts = await Promise.all(days.map(async (day) => (await slotsOn(admins[0]!, provider.id, day)).filter((_, k) => k % 4 === 0)));
    const ids: string[] = [];
    for (const [i, c] of clients.entries()) {
      const via = http(servers[i % 2]!.baseUrl, c.apiKey);
      const held = await via('POST', '/v1/bookings', { providerId: provider.id, start: starts[i % 2]![Math.floor(i / 2)]!.start, duration: 60 });
      expect(held.status, held.text).toBe(201);
      ids.push((held.body as { id: string }).id);
    }
    // Confirmed all at once, half through each process, while both workers poll every 20 ms.
    const confirms = await Promise.all(ids.map((id, i) => http(servers[(i + 1) % 2]!.baseUrl, clients[i]!.apiKey)('POST', `/v1/bookings/${id}/confirm`)));
    expect(confirms.map((r) => r.status)).toEqual(ids.map(() => 200));

    const deadline = Date.now() + 30_000;
    while (sink.received.length < 32 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1_500)); // time for a duplicate to show up
    const mails = await sink.parsed();
    expect(mails).toHaveLength(32);
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(32);
    const { rows } = await cluster!.sql.query<{ status: string; attempts: number; n: number }>(
      `SELECT status, attempts, count(*)::int AS n FROM mail_outbox WHERE kind = 'confirmed' GROUP BY status, attempts`,
    );
    expect(rows).toEqual([{ status: 'sent', attempts: 1, n: 32 }]);
    // The per-process counters add up to the mails sent.
    let sent = 0;
    for (const s of servers) {
      const metrics = await (await fetch(`${s.baseUrl}/metrics`)).text();
      sent += Number(/^mails_total\{outcome="sent"\} (\d+)$/m.exec(metrics)?.[1] ?? 'NaN');
    }
    expect(sent).toBe(32);
  });
});
