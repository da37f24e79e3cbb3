/**
 * Queries on the embedded database run as prepared statements
 * (src/db/embedded-statements.ts), outside transactions and inside them: same
 * rows, types, counts and errors as PGlite's own query(), and never inside
 * someone else's transaction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlState, SQLSTATE } from '../../src/db/database.js';
import { openEmbeddedDatabase, type EmbeddedDatabase } from '../../src/db/embedded.js';

describe('embedded database: prepared statements outside transactions', () => {
  let db: EmbeddedDatabase;

  beforeAll(async () => {
    db = await openEmbeddedDatabase({ dataDir: 'memory' });
    await db.exec(`CREATE TABLE t (id text PRIMARY KEY, n int, big bigint, at timestamptz, doc json, flag boolean, note text)`);
  });
  afterAll(async () => db?.close());

  it('serialises parameters and parses columns as PGlite does', async () => {
    const at = new Date('2027-03-14T07:30:00.123Z');
    const insert = `INSERT INTO t (id, n, big, at, doc, flag, note) VALUES ($1, $2, $3, $4, $5, $6, $7)`;
    expect((await db.query(insert, ['a', 1, 2, at, JSON.stringify({ x: [1, 'é'] }), true, null])).rowCount).toBe(1);
    expect((await db.query(insert, ['b', 2, 3, at, '{}', false, 'ünïcode 😀'])).rowCount).toBe(1);
    const select = 'SELECT id, n, big, at, doc, flag, note FROM t WHERE id = $1';
    for (let i = 0; i < 7; i++) {
      // Past five runs PostgreSQL may switch a prepared statement to a generic plan: same answer.
      const { rows } = await db.query(select, ['a']);
      expect(rows).toEqual([{ id: 'a', n: 1, big: 2, at, doc: { x: [1, 'é'] }, flag: true, note: null }]);
    }
    expect((await db.query(select, ['b'])).rows[0]).toMatchObject({ flag: false, note: 'ünïcode 😀' });
    expect((await db.query(select, ['none'])).rows).toEqual([]);
  });

  it('counts rows as the server driver does', async () => {
    await db.query(`INSERT INTO t (id, n) VALUES ('c1', 10), ('c2', 10), ('c3', 10)`);
    expect((await db.query('UPDATE t SET n = n + 1 WHERE n = $1', [10])).rowCount).toBe(3);
    expect((await db.query('SELECT id FROM t WHERE n = $1', [11])).rowCount).toBe(3);
    expect((await db.query('DELETE FROM t WHERE n = $1', [11])).rowCount).toBe(3);
    expect((await db.query('DELETE FROM t WHERE n = $1', [11])).rowCount).toBe(0);
  });

  it('reports SQLSTATEs, and the next query works', async () => {
    const error = await db.query(`INSERT INTO t (id) VALUES ($1)`, ['a']).catch((e: unknown) => e);
    expect(sqlState(error)).toBe(SQLSTATE.uniqueViolation);
    expect(sqlState(await db.query('SELECT 1 FROM nowhere WHERE x = $1', [1]).catch((e: unknown) => e))).toBe('42P01');
    expect(sqlState(await db.query('SELEC 1').catch((e: unknown) => e))).toBe('42601');
    expect((await db.query('SELECT n FROM t WHERE id = $1', ['a'])).rows).toEqual([{ n: 1 }]);
  });

  it('a table changed under a prepared statement: the statement is prepared again', async () => {
    await db.exec('CREATE TABLE shape (id int PRIMARY KEY, a int)');
    await db.query('INSERT INTO shape VALUES (1, 5)');
    const select = 'SELECT * FROM shape WHERE id = $1';
    expect((await db.query(select, [1])).rows).toEqual([{ id: 1, a: 5 }]);
    await db.exec('ALTER TABLE shape ADD COLUMN b int DEFAULT 7');
    expect((await db.query(select, [1])).rows).toEqual([{ id: 1, a: 5, b: 7 }]);
    expect((await db.query(select, [1])).rows).toEqual([{ id: 1, a: 5, b: 7 }]);
  });

  it('waits for a transaction in progress instead of running inside it', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const tx = db.transaction(async (q) => {
      await q.query(`INSERT INTO t (id, n) VALUES ('tx', 1)`);
      await held;
      throw new Error('roll back');
    });
    await new Promise((r) => setTimeout(r, 20));
    const outside = db.query('SELECT count(*)::int AS n FROM t WHERE id = $1', ['tx']);
    let answered = false;
    void outside.then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    release();
    await expect(tx).rejects.toThrow('roll back');
    expect((await outside).rows).toEqual([{ n: 0 }]); // it never saw the rolled-back row
  });
});

describe('embedded database: prepared statements inside transactions', () => {
  let db: EmbeddedDatabase;

  beforeAll(async () => {
    db = await openEmbeddedDatabase({ dataDir: 'memory' });
    await db.exec('CREATE TABLE u (id text PRIMARY KEY, n int, at timestamptz)');
  });
  afterAll(async () => db?.close());

  it('prepares a statement once and runs it again by name, with the same rows and types', async () => {
    const at = new Date('2027-03-14T07:30:00.123Z');
    const insert = 'INSERT INTO u (id, n, at) VALUES ($1, $2, $3) RETURNING id, n, at';
    const rows = await db.transaction(async (tx) => {
      const out = [];
      for (const id of ['a', 'b', 'c']) out.push(...(await tx.query(insert, [id, 1, at])).rows);
      return out;
    });
    expect(rows).toEqual(['a', 'b', 'c'].map((id) => ({ id, n: 1, at })));
    const prepared = await db.transaction(async (tx) => (await tx.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1', [insert])).rows[0]!.n);
    expect(prepared).toBe(1);
  });

  it('an error fails the transaction with its SQLSTATE and rolls it back; the next one works', async () => {
    const insert = 'INSERT INTO u (id, n) VALUES ($1, $2)';
    const error = await db.transaction(async (tx) => {
      await tx.query(insert, ['d', 2]);
      await tx.query(insert, ['a', 2]); // taken
    }).catch((e: unknown) => e);
    expect(sqlState(error)).toBe(SQLSTATE.uniqueViolation);
    expect(sqlState(await db.transaction((tx) => tx.query('SELEC 1')).catch((e: unknown) => e))).toBe('42601');
    expect((await db.transaction((tx) => tx.query('SELECT id FROM u WHERE n = $1 ORDER BY id', [2]))).rows).toEqual([]);
    await db.transaction((tx) => tx.query(insert, ['d', 2]));
    expect((await db.query('SELECT id FROM u WHERE n = $1', [2])).rows).toEqual([{ id: 'd' }]);
  });

  it('a table changed under a prepared statement fails that transaction only: the next prepares it again', async () => {
    const select = 'SELECT * FROM u WHERE id = $1';
    expect((await db.transaction((tx) => tx.query(select, ['a']))).rows).toHaveLength(1);
    await db.exec('ALTER TABLE u ADD COLUMN b int DEFAULT 7');
    expect(sqlState(await db.transaction((tx) => tx.query(select, ['a'])).catch((e: unknown) => e))).toBe('0A000');
    expect((await db.transaction((tx) => tx.query(select, ['a']))).rows[0]).toMatchObject({ id: 'a', b: 7 });
  });
});
