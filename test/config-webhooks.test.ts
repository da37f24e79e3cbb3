import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('webhook configuration', () => {
  it('has safe defaults and reads the variables', () => {
    expect(loadConfig({})).toMatchObject({
      webhookAllowPrivateUrls: false, webhookRetryBaseMs: 5000, webhookPollMs: 1000, webhookTimeoutMs: 10_000,
    });
    expect(loadConfig({
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_RETRY_BASE_MS: '20', WEBHOOK_POLL_MS: '50', WEBHOOK_TIMEOUT_MS: '2000',
    })).toMatchObject({ webhookAllowPrivateUrls: true, webhookRetryBaseMs: 20, webhookPollMs: 50, webhookTimeoutMs: 2000 });
  });

  it('refuses bad values, naming the variable', () => {
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: 'yes' })).toThrow(ConfigError);
    expect(() => loadConfig({ WEBHOOK_POLL_MS: '0' })).toThrow(/WEBHOOK_POLL_MS/);
    expect(() => loadConfig({ WEBHOOK_TIMEOUT_MS: '-1' })).toThrow(/WEBHOOK_TIMEOUT_MS/);
    expect(() => loadConfig({ WEBHOOK_RETRY_BASE_MS: '1.5' })).toThrow(/WEBHOOK_RETRY_BASE_MS/);
  });
});
