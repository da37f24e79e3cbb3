import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/**
 * Issue 14, item 14. Name lookups (getaddrinfo) run on libuv's thread pool,
 * four threads shared with scrypt and the file system: under a flood of
 * webhook retries or password checks a lookup waits its turn for seconds.
 * Here one name simply answers late (6 s, past the 5 s first read); it
 * resolves to loopback, so the connection must be refused, never stored.
 */
vi.mock('node:dns', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:dns')>();
  const lookup = ((hostname: string, options: any, callback: any) => {
    const cb = typeof options === 'function' ? options : callback;
    const opts = typeof options === 'function' ? {} : options;
    if (hostname !== 'slow-loopback.test') return real.lookup(hostname, opts, cb);
    const timer = setTimeout(() => (opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)), 6_000);
    timer.unref();
  }) as typeof real.lookup;
  return { ...real, default: { ...real, lookup }, lookup };
});

const { createUser, expectProblem } = await import('../helpers/api.js');
const { startTestServer } = await import('../helpers/server.js');
type TestServer = Awaited<ReturnType<typeof startTestServer>>;

describe('a host whose lookup is slow is refused, not stored', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it('connecting an ICS calendar at a slow name that resolves to loopback: 400, nothing stored, within the check\'s budget', async () => {
    const provider = await createUser(server, 'provider');
    const started = Date.now();
    const res = await provider.call('POST', `/v1/providers/${provider.id}/calendars`, { type: 'ics', url: 'http://slow-loopback.test:9/cal.ics' });
    const elapsed = Date.now() - started;
    const problem = expectProblem(res, 400);
    expect(problem.detail).toContain('refused');
    expect(elapsed).toBeLessThan(5_000);
    const stored = await server.db.query('SELECT id FROM calendar_connections WHERE provider_id = $1', [provider.id]);
    expect(stored.rows).toHaveLength(0);
  });

  it('a webhook at that name is refused the same way', async () => {
    const user = await createUser(server, 'client');
    const res = await user.call('POST', '/v1/webhooks', { url: 'http://slow-loopback.test:9/hook', events: ['booking.held'] });
    expect(expectProblem(res, 400).detail).toContain('refused');
  });
});
