import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('REDIS_URL', () => {
  it('is off by default and reads redis:// and rediss:// URLs', () => {
    expect(loadConfig({}).redisUrl).toBeNull();
    expect(loadConfig({ REDIS_URL: '' }).redisUrl).toBeNull();
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl).toBe('redis://127.0.0.1:6379');
    expect(loadConfig({ REDIS_URL: 'rediss://user:secret@cache.example:6380/2' }).redisUrl).toBe('rediss://user:secret@cache.example:6380/2');
  });

  it('namespaces keys with REDIS_KEY_PREFIX (booking: by default)', () => {
    expect(loadConfig({}).redisKeyPrefix).toBe('booking:');
    expect(loadConfig({ REDIS_KEY_PREFIX: 'staging:booking:' }).redisKeyPrefix).toBe('staging:booking:');
    for (const bad of ['has space', 'x'.repeat(65), 'star*']) {
      expect(() => loadConfig({ REDIS_KEY_PREFIX: bad })).toThrow(/REDIS_KEY_PREFIX/);
    }
  });

  it.each(['http://127.0.0.1:6379', 'not a url', '127.0.0.1:6379', 'redis://', 'redis:///0'])('refuses %s, naming the variable', (value) => {
    let error: unknown;
    try {
      loadConfig({ REDIS_URL: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('REDIS_URL');
    expect((error as Error).message).toContain('REDIS_URL');
  });

  it('makes the server exit non-zero with the variable named', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, REDIS_URL: 'memcached://127.0.0.1:11211', DATA_DIR: 'memory' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('REDIS_URL');
  });
});
