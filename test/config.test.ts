import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000, host: '127.0.0.1', databaseUrl: null, dataDir: './.data', adminApiKey: null,
      openSignup: false, holdTtlSeconds: 1800, minNoticeMinutes: 1440,
      maxHoldsPerClient: 5, rateLimitPerMinute: 600, rateLimitBurst: 600, metricsEnabled: true, trustProxy: false,
      fastSlotReads: true, embeddedSharedBuffersMb: 8, pgPreparedStatements: true,
    });
  });

  it('reads FAST_SLOT_READS and EMBEDDED_SHARED_BUFFERS_MB, and refuses bad values by name', () => {
    expect(loadConfig({ FAST_SLOT_READS: 'false', EMBEDDED_SHARED_BUFFERS_MB: '32', PG_PREPARED_STATEMENTS: 'false' })).toMatchObject({ fastSlotReads: false, embeddedSharedBuffersMb: 32, pgPreparedStatements: false });
    expect(() => loadConfig({ FAST_SLOT_READS: 'sometimes' })).toThrow(/FAST_SLOT_READS/);
    for (const bad of ['0', '8MB', '-1', '5000']) expect(() => loadConfig({ EMBEDDED_SHARED_BUFFERS_MB: bad })).toThrow(/EMBEDDED_SHARED_BUFFERS_MB/);
  });

  it('reads the limits, metrics and proxy variables', () => {
    expect(loadConfig({ MAX_HOLDS_PER_CLIENT: '12', RATE_LIMIT_PER_MINUTE: '120', METRICS_ENABLED: 'false' })).toMatchObject({
      maxHoldsPerClient: 12, rateLimitPerMinute: 120, rateLimitBurst: 120, metricsEnabled: false,
    });
    expect(loadConfig({ RATE_LIMIT_PER_MINUTE: '0' })).toMatchObject({ rateLimitPerMinute: 0, rateLimitBurst: 1 });
    expect(loadConfig({ RATE_LIMIT_BURST: '50' })).toMatchObject({ rateLimitPerMinute: 600, rateLimitBurst: 50 });
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1' }).trustProxy).toBe('127.0.0.1,10.0.0.0/8,::1');
  });

  it.each([
    ['PORT', 'abc'], ['PORT', '70000'], ['HOLD_TTL_SECONDS', '0'], ['HOLD_TTL_SECONDS', '1.5'],
    ['MIN_NOTICE_MINUTES', '-5'], ['OPEN_SIGNUP', 'yes please'], ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'not a url'], ['ADMIN_API_KEY', 'short'], ['LOG_LEVEL', 'loud'],
    ['MAX_HOLDS_PER_CLIENT', '0'], ['MAX_HOLDS_PER_CLIENT', 'five'], ['RATE_LIMIT_PER_MINUTE', '-1'],
    ['RATE_LIMIT_PER_MINUTE', 'lots'], ['RATE_LIMIT_PER_MINUTE', '2000000'], ['RATE_LIMIT_BURST', '0'],
    ['RATE_LIMIT_BURST', '1.5'], ['METRICS_ENABLED', 'maybe'], ['TRUST_PROXY', 'nginx'], ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', '0'], ['TRUST_PROXY', '10.0.0.1/8/1'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(name);
    expect((error as Error).message).toContain(name);
  });

  it('makes the server exit non-zero with the variable named', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, HOLD_TTL_SECONDS: 'soon', DATA_DIR: 'memory' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.status).not.toBeNull();
    expect(run.stderr).toContain('HOLD_TTL_SECONDS');
  });
});
