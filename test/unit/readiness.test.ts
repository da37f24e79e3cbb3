import { describe, expect, it } from 'vitest';
import { checkReadiness, notReadyDetail } from '../../src/platform/readiness.js';
import type { Queryable } from '../../src/db/database.js';

const db = (query: Queryable['query']): Queryable => ({ query, exec: async () => {} });

describe('readiness', () => {
  it('is ready when SELECT 1 answers', async () => {
    const ok = db(async <T>() => ({ rows: [{ '?column?': 1 } as T], rowCount: 1 }));
    expect(await checkReadiness({ db: ok })).toEqual({ ready: true, checks: { database: 'ok' } });
  });

  it('is not ready when the query fails', async () => {
    const failing = db(async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    });
    expect(await checkReadiness({ db: failing })).toEqual({ ready: false, checks: { database: 'unavailable' } });
  });

  it('is not ready when the query does not answer in time', async () => {
    const hanging = db(() => new Promise(() => {}));
    const started = Date.now();
    expect(await checkReadiness({ db: hanging }, 50)).toEqual({ ready: false, checks: { database: 'unavailable' } });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('with Redis configured, both must answer; the checks name which did not', async () => {
    const ok = db(async <T>() => ({ rows: [{ '?column?': 1 } as T], rowCount: 1 }));
    const up = { ping: async () => true };
    const down = { ping: async () => false };
    const hanging = { ping: () => new Promise<boolean>(() => {}) };
    expect(await checkReadiness({ db: ok, redis: up })).toEqual({ ready: true, checks: { database: 'ok', redis: 'ok' } });
    expect(await checkReadiness({ db: ok, redis: down })).toEqual({ ready: false, checks: { database: 'ok', redis: 'unavailable' } });
    expect(await checkReadiness({ db: ok, redis: hanging }, 50)).toEqual({ ready: false, checks: { database: 'ok', redis: 'unavailable' } });
    expect(notReadyDetail({ database: 'ok', redis: 'unavailable' })).toBe('Redis did not answer; not ready for traffic.');
    expect(notReadyDetail({ database: 'unavailable', redis: 'unavailable' })).toBe('The database and Redis did not answer; not ready for traffic.');
    expect(notReadyDetail({ database: 'unavailable' })).toBe('The database did not answer; not ready for traffic.');
  });
});
