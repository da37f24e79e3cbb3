import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CalendarSourceError } from '../../../src/integrations/calendars/provider.js';
import { parseSourceUrl, safeGet, type SafeGetOptions } from '../../../src/integrations/calendars/safe-fetch.js';
import { startIcsServer, type IcsServer } from '../../helpers/ics-server.js';

/** The guarded GET against a local host on 127.0.0.1; "private" is narrowed where a test needs a public first hop. */
let ics: IcsServer;
const SECRET = '/s3cret-path-token';
beforeAll(async () => {
  ics = await startIcsServer();
  ics.serve(`${SECRET}/cal.ics`, { file: 'floating.ics' });
});
afterAll(async () => ics?.close());

const open: SafeGetOptions = { allowPrivateAddresses: true };

async function failure(url: string, options: SafeGetOptions): Promise<CalendarSourceError> {
  try {
    await safeGet(new URL(url), options);
  } catch (error) {
    expect(error).toBeInstanceOf(CalendarSourceError);
    expect((error as Error).message).not.toContain('s3cret');
    return error as CalendarSourceError;
  }
  throw new Error(`expected ${url} to fail`);
}

describe('safeGet', () => {
  it('reads a body, plain or gzip', async () => {
    expect(await safeGet(new URL(ics.url(`${SECRET}/cal.ics`)), open)).toMatch(/^BEGIN:VCALENDAR/);
    ics.serve('/gz.ics', { file: 'floating.ics', gzip: true });
    expect(await safeGet(new URL(ics.url('/gz.ics')), open)).toMatch(/^BEGIN:VCALENDAR/);
  });

  it('refuses loopback by address and by name before connecting', async () => {
    const before = ics.hits(`${SECRET}/cal.ics`);
    expect(await failure(ics.url(`${SECRET}/cal.ics`), { allowPrivateAddresses: false })).toMatchObject({ kind: 'refused' });
    expect(await failure(`http://localhost:${ics.port}${SECRET}/cal.ics`, { allowPrivateAddresses: false })).toMatchObject({ kind: 'refused' });
    expect(ics.hits(`${SECRET}/cal.ics`)).toBe(before);
  });

  it('re-checks every redirect: a public first hop redirecting to a private address is refused', async () => {
    // Here only 127.0.0.2 counts as private, so 127.0.0.1 plays the public host.
    const isForbidden = (address: string) => address === '127.0.0.2';
    ics.serve('/to-private', { redirect: `http://127.0.0.2:${ics.port}${SECRET}/cal.ics` });
    ics.serve('/to-file', { redirect: 'file:///etc/passwd' });
    expect(await failure(ics.url('/to-private'), { allowPrivateAddresses: false, isForbidden })).toMatchObject({ kind: 'refused' });
    expect(ics.hits('/to-private')).toBe(1);
    expect(await failure(ics.url('/to-file'), open)).toMatchObject({ kind: 'invalid' });
    ics.serve('/a', { redirect: '/b' });
    ics.serve('/b', { redirect: `${SECRET}/cal.ics` });
    expect(await safeGet(new URL(ics.url('/a')), { allowPrivateAddresses: false, isForbidden })).toMatch(/^BEGIN:VCALENDAR/);
  });

  it('names the HTTP status of a failed answer, never the path', async () => {
    ics.serve(`${SECRET}/gone`, { status: 410 });
    expect((await failure(ics.url(`${SECRET}/gone`), open)).message).toBe('127.0.0.1 answered HTTP 410');
  });

  it('a host that never answers is cut off by the idle timeout, and by the overall deadline', async () => {
    ics.serve('/hang', { hang: true });
    let started = performance.now();
    expect(await failure(ics.url('/hang'), { ...open, idleTimeoutMs: 200, timeoutMs: 5_000 })).toMatchObject({
      kind: 'timeout', message: '127.0.0.1 did not answer within 0.2 s',
    });
    expect(performance.now() - started).toBeLessThan(2_000);
    started = performance.now();
    expect(await failure(ics.url('/hang'), { ...open, timeoutMs: 300 })).toMatchObject({ kind: 'timeout', message: '127.0.0.1 did not finish within 0.3 s' });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('a body over the size limit is abandoned, declared or streamed', async () => {
    ics.serve('/big', { stream: 3 * 1024 * 1024 });
    expect(await failure(ics.url('/big'), { ...open, maxBytes: 1024 * 1024 })).toMatchObject({ kind: 'too_large' });
    ics.serve('/declared', { text: 'x'.repeat(2 * 1024 * 1024) });
    expect(await failure(ics.url('/declared'), { ...open, maxBytes: 1024 * 1024 })).toMatchObject({ kind: 'too_large' });
  });

  it('stops when the caller aborts (shutdown)', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    expect((await failure(ics.url('/hang'), { ...open, signal: controller.signal })).message).toMatch(/shutting down/);
  });
});

describe('parseSourceUrl', () => {
  it('accepts http, https and webcal (as https); refuses the rest', () => {
    expect(parseSourceUrl('webcal://cal.example.test/a.ics?t=1').href).toBe('https://cal.example.test/a.ics?t=1');
    expect(parseSourceUrl(' https://cal.example.test/a.ics ').href).toBe('https://cal.example.test/a.ics');
    for (const bad of ['ftp://x/y', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url', '//x/y', 'http://']) {
      expect(() => parseSourceUrl(bad), bad).toThrow();
    }
  });
});
