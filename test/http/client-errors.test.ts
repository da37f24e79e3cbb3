import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Sends raw bytes and resolves with what came back before the server closed (or after `waitMs`). */
function raw(port: number, text: string, waitMs = 5_000): Promise<{ text: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: got, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('data', (d) => { got += d.toString('latin1'); });
    socket.on('close', () => done(true));
    socket.on('error', () => {});
    socket.write(text);
  });
}

const problemOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));

describe('requests that stall or that Node\'s parser refuses (issue 14, items 3 and 12)', () => {
  let server: TestServer;
  let port: number;
  beforeAll(async () => {
    server = await startTestServer({ REQUEST_TIMEOUT_MS: '1500', HEADERS_TIMEOUT_MS: '1000' });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    port = (server.app.server.address() as { port: number }).port;
  });
  afterAll(async () => server?.close());

  it('a body that stalls after its headers is answered 408 problem+json and the connection closed', async () => {
    const res = await raw(port, 'POST /v1/users HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na', 8_000);
    expect(res.closed).toBe(true);
    expect(res.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(res.text).toMatch(/content-type: application\/problem\+json/i);
    expect(problemOf(res.text)).toMatchObject({ status: 408, code: 'request_timeout' });
    expect(res.ms).toBeLessThan(5_000);
  });

  it('headers that never end are answered 408 as well', async () => {
    const res = await raw(port, 'GET /health HTTP/1.1\r\nHost: a\r\nX-Slow: 1', 8_000);
    expect(res.closed).toBe(true);
    expect(res.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(problemOf(res.text).code).toBe('request_timeout');
  });

  it.each([
    ['a bad Content-Length', 'POST /v1/users HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n', 400],
    ['two different Content-Lengths', 'POST /v1/users HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400],
    ['Content-Length with Transfer-Encoding', 'POST /v1/users HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['headers over the limit', `GET /health HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`, 431],
  ])('%s answers problem+json from the catalogue', async (_name, request, status) => {
    const res = await raw(port, request);
    expect(res.text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(res.text).toMatch(/content-type: application\/problem\+json/i);
    const problem = problemOf(res.text);
    expect(problem.status).toBe(status);
    expect(problem.code).toBe(status === 431 ? 'headers_too_large' : 'invalid_request');
  });
});
