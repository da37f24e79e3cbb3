import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openStream, type StreamClient } from '../helpers/ws-client.js';

/** Issue 14, item 7: the socket cap is per user, so minting keys does not multiply it. */
describe('GET /v1/stream sockets are capped per user, not per key', () => {
  let server: TestServer;
  let base: string;
  const clients: StreamClient[] = [];
  beforeAll(async () => {
    server = await startTestServer();
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    base = `ws://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
  });

  it('20 sockets over two keys of one user fill the cap: the 21st, on either key, is closed with 4429', async () => {
    const user = await createUser(server, 'client');
    const second = (await user.call('POST', '/v1/api-keys', { name: 'second' })).json().apiKey as string;
    for (let i = 0; i < 20; i++) clients.push(await openStream(`${base}/v1/stream?apiKey=${i % 2 === 0 ? user.apiKey : second}`));
    const extra = await openStream(`${base}/v1/stream?apiKey=${second}`);
    clients.push(extra);
    const code = await new Promise<number>((resolve) => {
      if (extra.ws.readyState === extra.ws.CLOSED) resolve(-1);
      extra.ws.once('close', (c) => resolve(c));
      setTimeout(() => resolve(0), 2_000);
    });
    expect(code).toBe(4429);
  });
});
