import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

/** The calendar settings of the environment (the rest is in config.test.ts). */
describe('config: connected calendars', () => {
  const hex = 'ab'.repeat(32);
  const base64 = Buffer.alloc(32, 3).toString('base64');

  it('defaults: no key, a sync every 300 s, private URLs refused', () => {
    const config = loadConfig({});
    expect(config.encryptionKey).toBeNull();
    expect(config.calendarSyncSeconds).toBe(300);
    expect(config.calendarAllowPrivateUrls).toBe(false);
  });

  it('ENCRYPTION_KEY is 32 bytes as 64 hex characters or base64 (with or without padding, or base64url)', () => {
    expect(loadConfig({ ENCRYPTION_KEY: hex }).encryptionKey).toEqual(Buffer.from(hex, 'hex'));
    expect(loadConfig({ ENCRYPTION_KEY: base64 }).encryptionKey).toEqual(Buffer.alloc(32, 3));
    expect(loadConfig({ ENCRYPTION_KEY: base64.replace(/=+$/, '') }).encryptionKey).toEqual(Buffer.alloc(32, 3));
    const url = Buffer.alloc(32, 0xfb).toString('base64url');
    expect(loadConfig({ ENCRYPTION_KEY: url }).encryptionKey).toEqual(Buffer.alloc(32, 0xfb));
  });

  it.each(['short', 'ab'.repeat(31), 'ab'.repeat(33), Buffer.alloc(16).toString('base64'), Buffer.alloc(33).toString('base64'), 'zz'.repeat(32), 'a b'])(
    'a malformed ENCRYPTION_KEY (%s) stops the start, naming it',
    (value) => {
      expect(() => loadConfig({ ENCRYPTION_KEY: value })).toThrow(ConfigError);
      expect(() => loadConfig({ ENCRYPTION_KEY: value })).toThrow(/^ENCRYPTION_KEY: /);
    },
  );

  it('CALENDAR_SYNC_SECONDS and CALENDAR_ALLOW_PRIVATE_URLS are validated', () => {
    expect(loadConfig({ CALENDAR_SYNC_SECONDS: '60', CALENDAR_ALLOW_PRIVATE_URLS: 'true' })).toMatchObject({
      calendarSyncSeconds: 60, calendarAllowPrivateUrls: true,
    });
    for (const bad of ['0', '-5', '1.5', 'often', String(8 * 24 * 3600)]) {
      expect(() => loadConfig({ CALENDAR_SYNC_SECONDS: bad }), bad).toThrow(/^CALENDAR_SYNC_SECONDS: /);
    }
    expect(() => loadConfig({ CALENDAR_ALLOW_PRIVATE_URLS: 'yes please' })).toThrow(/^CALENDAR_ALLOW_PRIVATE_URLS: /);
  });

  it('calendar writes: poll 1 s, retry base 5 s, 10 s per write by default; bad values stop the start, naming the variable', () => {
    expect(loadConfig({})).toMatchObject({ calendarWritePollMs: 1000, calendarWriteRetryBaseMs: 5000, calendarWriteTimeoutMs: 10_000 });
    expect(loadConfig({ CALENDAR_WRITE_POLL_MS: '50', CALENDAR_WRITE_RETRY_BASE_MS: '1', CALENDAR_WRITE_TIMEOUT_MS: '500' })).toMatchObject({
      calendarWritePollMs: 50, calendarWriteRetryBaseMs: 1, calendarWriteTimeoutMs: 500,
    });
    const bad: [string, string][] = [
      ['CALENDAR_WRITE_POLL_MS', '5'], ['CALENDAR_WRITE_POLL_MS', 'soon'],
      ['CALENDAR_WRITE_RETRY_BASE_MS', '0'], ['CALENDAR_WRITE_RETRY_BASE_MS', '-1'],
      ['CALENDAR_WRITE_TIMEOUT_MS', '99'], ['CALENDAR_WRITE_TIMEOUT_MS', '120001'], ['CALENDAR_WRITE_TIMEOUT_MS', '1.5'],
    ];
    for (const [name, value] of bad) expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(new RegExp(`^${name}: `));
  });

  it('Google: no client by default, Google\'s own endpoints; the redirect and endpoint URLs must be http(s)', () => {
    expect(loadConfig({}).google).toEqual({
      clientId: null,
      clientSecret: null,
      redirectUri: null,
      authUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      apiRootUrl: 'https://www.googleapis.com/',
    });
    const google = loadConfig({
      GOOGLE_CLIENT_ID: ' id.apps.googleusercontent.com ',
      GOOGLE_CLIENT_SECRET: 'secret',
      GOOGLE_REDIRECT_URI: 'https://book.example.com/v1/calendars/google/callback',
      GOOGLE_AUTH_URL: 'http://127.0.0.1:9000/auth',
      GOOGLE_TOKEN_URL: 'http://127.0.0.1:9000/token',
      GOOGLE_API_ROOT_URL: 'http://127.0.0.1:9000//',
    }).google;
    expect(google).toEqual({
      clientId: 'id.apps.googleusercontent.com',
      clientSecret: 'secret',
      redirectUri: 'https://book.example.com/v1/calendars/google/callback',
      authUrl: 'http://127.0.0.1:9000/auth',
      tokenUrl: 'http://127.0.0.1:9000/token',
      apiRootUrl: 'http://127.0.0.1:9000/',
    });
    for (const name of ['GOOGLE_REDIRECT_URI', 'GOOGLE_AUTH_URL', 'GOOGLE_TOKEN_URL', 'GOOGLE_API_ROOT_URL']) {
      expect(() => loadConfig({ [name]: 'not a url' }), name).toThrow(new RegExp(`^${name}: is not a valid URL`));
      expect(() => loadConfig({ [name]: 'ftp://example.com/x' }), name).toThrow(new RegExp(`^${name}: must use http: or https:`));
    }
  });
});
