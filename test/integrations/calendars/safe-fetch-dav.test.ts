import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeGet } from '../../../src/integrations/calendars/safe-fetch.js';

/** safeGet as CalDAV uses it: another method, a body, headers; credentials never follow a redirect to another origin. */
interface Seen { method: string; path: string; headers: IncomingHttpHeaders; body: string }
let server: Server;
let port = 0;
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => { body += chunk.toString('utf8'); });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      if (req.url === '/same') return res.writeHead(307, { location: '/final' }).end();
      if (req.url === '/cross') return res.writeHead(307, { location: `http://localhost:${port}/final` }).end();
      return res.writeHead(207, { 'content-type': 'application/xml' }).end('<multistatus xmlns="DAV:"/>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const request = (path: string) => safeGet(new URL(`http://127.0.0.1:${port}${path}`), {
  allowPrivateAddresses: true, method: 'REPORT', body: '<x/>', headers: { authorization: 'Basic c2VjcmV0', depth: '1' },
});

describe('safeGet with a method, a body and credentials', () => {
  it('sends them, and a 207 is a success', async () => {
    seen.length = 0;
    expect(await request('/direct')).toMatch(/multistatus/);
    expect(seen[0]).toMatchObject({ method: 'REPORT', body: '<x/>', headers: { authorization: 'Basic c2VjcmV0', depth: '1' } });
  });

  it('keeps the Authorization header on a same-origin redirect and drops it on a redirect to another origin', async () => {
    seen.length = 0;
    await request('/same');
    expect(seen.map((s) => [s.path, s.headers.authorization])).toEqual([['/same', 'Basic c2VjcmV0'], ['/final', 'Basic c2VjcmV0']]);
    seen.length = 0;
    await request('/cross');
    expect(seen.map((s) => [s.path, s.headers.host, s.headers.authorization])).toEqual([
      ['/cross', `127.0.0.1:${port}`, 'Basic c2VjcmV0'],
      ['/final', `localhost:${port}`, undefined],
    ]);
  });
});
