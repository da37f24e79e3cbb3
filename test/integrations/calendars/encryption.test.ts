import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openSecret, sealSecret, SecretUnreadableError } from '../../../src/platform/crypto/encryption.js';

describe('AES-256-GCM sealing of calendar settings', () => {
  const key = randomBytes(32);
  const secret = JSON.stringify({ url: 'https://cal.example.test/private-abc123/basic.ics' });

  it('round-trips, with a fresh nonce each time', () => {
    const a = sealSecret(key, secret, 'cal_1');
    const b = sealSecret(key, secret, 'cal_1');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(a).not.toContain('private-abc123');
    expect(openSecret(key, a, 'cal_1')).toBe(secret);
  });

  it('does not open with another key, for another row, or after tampering', () => {
    const sealed = sealSecret(key, secret, 'cal_1');
    expect(() => openSecret(randomBytes(32), sealed, 'cal_1')).toThrow(SecretUnreadableError);
    expect(() => openSecret(key, sealed, 'cal_2')).toThrow(SecretUnreadableError);
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0]! ^= 1;
    expect(() => openSecret(key, [...parts.slice(0, 3), body.toString('base64url')].join('.'), 'cal_1')).toThrow(SecretUnreadableError);
    expect(() => openSecret(key, 'garbage', 'cal_1')).toThrow(SecretUnreadableError);
  });
});
