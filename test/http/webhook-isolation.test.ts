import { createServer as createTcpServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, expectProblem, providerWithHours, upcomingDate } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually, startReceiver } from '../helpers/webhook-receiver.js';
import { holdOk, localInstant } from './booking-helpers.js';

/** A host that accepts connections and never answers (issue 14, item 2). */
async function startHangingHost() {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  let accepted = 0;
  server.on('connection', () => { accepted += 1; });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    accepted: () => accepted,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

describe('a hanging webhook endpoint delays only itself', () => {
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let hanging: Awaited<ReturnType<typeof startHangingHost>>;
  const TIMEOUT_MS = 3_000;
  beforeAll(async () => {
    server = await startTestServer({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_POLL_MS: '50', WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS) });
    receiver = await startReceiver();
    hanging = await startHangingHost();
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
    await hanging?.close();
  });

  it('a user may have MAX_WEBHOOKS_PER_USER (20) webhooks; the 21st is a 409 quota_exceeded', async () => {
    const user = await createUser(server, 'client');
    for (let i = 0; i < 20; i++) {
      const res = await user.call('POST', '/v1/webhooks', { url: `${receiver.base}/cap`, events: ['booking.held'] });
      expect(res.statusCode, res.body).toBe(201);
    }
    const refused = expectProblem(await user.call('POST', '/v1/webhooks', { url: `${receiver.base}/cap`, events: ['booking.held'] }), 409);
    expect(refused.code).toBe('quota_exceeded');
  });

  it('the healthy provider\'s delivery time is unchanged while 20 deliveries hang on another provider\'s endpoint', async () => {
    const slow = await providerWithHours(server);
    const healthy = await providerWithHours(server);
    const client = await createUser(server, 'client');
    for (let i = 0; i < 20; i++) {
      expect((await slow.call('POST', '/v1/webhooks', { url: hanging.url, events: ['booking.held'] })).statusCode).toBe(201);
    }
    expect((await healthy.call('POST', '/v1/webhooks', { url: `${receiver.base}/healthy`, events: ['booking.held'] })).statusCode).toBe(201);
    const day = upcomingDate(2);
    /** Milliseconds from a hold of the healthy provider to its delivery. */
    const deliveryTime = async (time: string) => {
      const before = receiver.at('/healthy').length;
      const started = Date.now();
      await holdOk(client.call, healthy.id, localInstant(day, time));
      expect(await eventually(() => receiver.at('/healthy').length > before, 10_000)).toBe(true);
      return Date.now() - started;
    };
    const alone = await deliveryTime('09:00');
    await holdOk(client.call, slow.id, localInstant(day, '09:00'));
    expect(await eventually(() => hanging.accepted() >= 1, 5_000)).toBe(true);
    const beside = await deliveryTime('10:00');
    console.log(`healthy delivery: ${alone} ms alone, ${beside} ms beside a hanging endpoint (timeout ${TIMEOUT_MS} ms)`);
    // Generous: well under the hanging endpoint's timeout, which is what it waited for before.
    expect(beside).toBeLessThan(alone + TIMEOUT_MS / 2);
    // The hanging endpoint is not sent all 20 at once.
    expect(hanging.accepted()).toBeLessThanOrEqual(4);
  });
});
