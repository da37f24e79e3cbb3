import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('notification configuration', () => {
  it('is off without SMTP_URL; PUBLIC_BASE_URL defaults to the listening address', () => {
    expect(loadConfig({})).toMatchObject({ mail: null, publicBaseUrl: 'http://127.0.0.1:3000' });
    expect(loadConfig({ HOST: '::1', PORT: '8080' }).publicBaseUrl).toBe('http://[::1]:8080');
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://book.example.com/' }).publicBaseUrl).toBe('https://book.example.com');
    // MAIL_FROM alone is accepted (and unused), so it can be set before SMTP_URL.
    expect(loadConfig({ MAIL_FROM: 'a@example.com' }).mail).toBeNull();
  });

  it('reads SMTP_URL, MAIL_FROM, REMINDER_MINUTES and the timeouts', () => {
    const { mail } = loadConfig({
      SMTP_URL: 'smtps://user%40example.com:p%3Ass@smtp.example.com:465', MAIL_FROM: 'Example Clinic <bookings@example.com>',
      REMINDER_MINUTES: '60, 1440,60', SMTP_SOCKET_TIMEOUT_MS: '5000', MAIL_SEND_TIMEOUT_MS: '20000',
    });
    expect(mail).toMatchObject({
      smtpUrl: 'smtps://user%40example.com:p%3Ass@smtp.example.com:465',
      from: { name: 'Example Clinic', address: 'bookings@example.com' },
      reminderMinutes: [1440, 60],
      connectionTimeoutMs: 10_000, greetingTimeoutMs: 10_000, socketTimeoutMs: 5000, sendTimeoutMs: 20_000,
      pollMs: 1000, retryBaseMs: 5000,
    });
    expect(loadConfig({ SMTP_URL: 'smtp://127.0.0.1:2525', MAIL_FROM: 'a@b.example' }).mail).toMatchObject({
      from: { name: null, address: 'a@b.example' }, reminderMinutes: [1440],
    });
    expect(loadConfig({ SMTP_URL: 'smtp://127.0.0.1:2525', MAIL_FROM: 'a@b.example', REMINDER_MINUTES: 'none' }).mail!.reminderMinutes).toEqual([]);
  });

  it('refuses bad values, naming the variable', () => {
    const from = { MAIL_FROM: 'a@b.example' };
    expect(() => loadConfig({ SMTP_URL: 'smtp://127.0.0.1:2525' })).toThrow(/^MAIL_FROM: is required with SMTP_URL/);
    expect(() => loadConfig({ SMTP_URL: 'http://mail.example.com', ...from })).toThrow(/SMTP_URL/);
    expect(() => loadConfig({ SMTP_URL: 'smtp://', ...from })).toThrow(/SMTP_URL/);
    expect(() => loadConfig({ SMTP_URL: 'not a url', ...from })).toThrow(ConfigError);
    expect(() => loadConfig({ SMTP_URL: 'smtp://u:%zz@mail.example.com', ...from })).toThrow(/SMTP_URL/);
    for (const bad of ['nobody', 'a@b', 'Name <a@b.example', 'a@b.example\r\nBcc: x@y.example', '"Q" <a b@c.example>']) {
      expect(() => loadConfig({ MAIL_FROM: bad }), bad).toThrow(/MAIL_FROM/);
    }
    for (const bad of ['0', '-5', '1.5', 'daily', '60,,1440', '525601']) {
      expect(() => loadConfig({ REMINDER_MINUTES: bad }), bad).toThrow(/REMINDER_MINUTES/);
    }
    expect(() => loadConfig({ SMTP_SOCKET_TIMEOUT_MS: '10' })).toThrow(/SMTP_SOCKET_TIMEOUT_MS/);
    expect(() => loadConfig({ MAIL_RETRY_BASE_MS: 'soon' })).toThrow(/MAIL_RETRY_BASE_MS/);
    expect(() => loadConfig({ PUBLIC_BASE_URL: 'ftp://x.example' })).toThrow(/PUBLIC_BASE_URL/);
  });
});
