import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000, host: '127.0.0.1', databaseUrl: null, dataDir: './.data', adminApiKey: null,
      openSignup: false, holdTtlSeconds: 1800, minNoticeMinutes: 1440,
    });
  });

  it.each([
    ['PORT', 'abc'], ['PORT', '70000'], ['HOLD_TTL_SECONDS', '0'], ['HOLD_TTL_SECONDS', '1.5'],
    ['MIN_NOTICE_MINUTES', '-5'], ['OPEN_SIGNUP', 'yes please'], ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'not a url'], ['ADMIN_API_KEY', 'short'], ['LOG_LEVEL', 'loud'],
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
