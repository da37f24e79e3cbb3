import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

function variableOf(env: Record<string, string>): string | null {
  try {
    loadConfig(env);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).variable;
  }
}

const S3 = { S3_BUCKET: 'avatars', S3_REGION: 'eu-west-1' };

describe('profile image settings', () => {
  it('defaults: 2 MiB, 5-minute URLs, the local store, a key from the database', () => {
    expect(loadConfig({}).avatars).toEqual({ maxBytes: 2 * 1024 * 1024, uploadUrlTtlSeconds: 300, signingKey: null, s3: null });
  });

  it('reads an S3 bucket: path style by default only with an endpoint; credentials both or neither', () => {
    expect(loadConfig(S3).avatars.s3).toEqual({ bucket: 'avatars', region: 'eu-west-1', endpoint: null, credentials: null, forcePathStyle: false });
    const minio = loadConfig({ ...S3, S3_ENDPOINT: 'http://127.0.0.1:9000/', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret' }).avatars.s3;
    expect(minio).toEqual({
      bucket: 'avatars', region: 'eu-west-1', endpoint: 'http://127.0.0.1:9000',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' }, forcePathStyle: true,
    });
  });

  it('stops the start on a half-configured bucket or a weak signing key, naming the variable', () => {
    expect(variableOf({ S3_ENDPOINT: 'http://127.0.0.1:9000' })).toBe('S3_BUCKET');
    expect(variableOf({ S3_BUCKET: 'avatars' })).toBe('S3_REGION');
    expect(variableOf({ ...S3, S3_ACCESS_KEY_ID: 'id' })).toBe('S3_SECRET_ACCESS_KEY');
    expect(variableOf({ ...S3, S3_SECRET_ACCESS_KEY: 'secret' })).toBe('S3_ACCESS_KEY_ID');
    expect(variableOf({ ...S3, S3_BUCKET: 'Not_A_Bucket' })).toBe('S3_BUCKET');
    expect(variableOf({ ...S3, S3_ENDPOINT: 'ftp://x' })).toBe('S3_ENDPOINT');
    expect(variableOf({ UPLOAD_SIGNING_KEY: 'short' })).toBe('UPLOAD_SIGNING_KEY');
    expect(variableOf({ AVATAR_MAX_BYTES: '100' })).toBe('AVATAR_MAX_BYTES');
    expect(variableOf({ UPLOAD_URL_TTL_SECONDS: '86400' })).toBe('UPLOAD_URL_TTL_SECONDS');
    expect(variableOf({ UPLOAD_SIGNING_KEY: 'k'.repeat(32) })).toBeNull();
  });
});
