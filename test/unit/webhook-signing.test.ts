import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS, retryDelayMs } from '../../src/features/webhooks/webhook-worker.js';
import { newWebhookSecret, signWebhook, webhookHeaders } from '../../src/features/webhooks/webhook-signing.js';

describe('webhook signing (Standard Webhooks v1)', () => {
  it('matches the specification\'s example', () => {
    // From the Standard Webhooks specification and its reference libraries' tests.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const timestamp = 1614265330;
    const body = '{"test": 2432232314}';
    expect(signWebhook(secret, id, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('re-verifies with node:crypto, and any change to id, timestamp or body breaks it', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    const body = JSON.stringify({ type: 'booking.held', timestamp: '2027-01-01T00:00:00.000Z', data: {} });
    const headers = webhookHeaders(secret, 'dlv_1', 1700000000, body);
    expect(headers['content-type']).toBe('application/json');
    const expected = createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(`dlv_1.1700000000.${body}`).digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
    expect(signWebhook(secret, 'dlv_2', 1700000000, body)).not.toBe(headers['webhook-signature']);
    expect(signWebhook(secret, 'dlv_1', 1700000001, body)).not.toBe(headers['webhook-signature']);
    expect(signWebhook(secret, 'dlv_1', 1700000000, `${body} `)).not.toBe(headers['webhook-signature']);
  });

  it('backs off 5 s, 30 s, 2 min, 10 min, 1 h... and gives up after the last attempt', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, 5000))).toEqual([5000, 30_000, 120_000, 600_000, 3_600_000]);
    expect(retryDelayMs(MAX_ATTEMPTS - 1, 5000)).toBeGreaterThan(0);
    expect(retryDelayMs(MAX_ATTEMPTS, 5000)).toBeNull();
  });
});
