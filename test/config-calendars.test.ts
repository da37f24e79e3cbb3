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
});
