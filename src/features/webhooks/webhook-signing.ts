import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks v1 signatures (https://www.standardwebhooks.com/):
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the base64-decoded
 * part of the secret after `whsec_`.
 *
 *   const secret = newWebhookSecret();               // whsec_…, shown to the owner once
 *   const signature = signWebhook(secret, 'dlv_1', 1700000000, '{"type":"booking.held"}');
 */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The request headers of one delivery attempt. */
export function webhookHeaders(secret: string, id: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signWebhook(secret, id, timestampSeconds, body),
  };
}
