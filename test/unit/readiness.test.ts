import { describe, expect, it } from 'vitest';
import { checkReadiness } from '../../src/app/readiness.js';
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
});
