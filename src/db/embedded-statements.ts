import { parse, protocol, type PGlite } from '@electric-sql/pglite';
import { sqlState, type QueryResult } from './database.js';

type BackendMessage = Parameters<typeof parse.parseResults>[0][number];

interface Statement {
  name: string;
  /** The name as sent in every Bind. */
  nameBytes: Uint8Array;
  /** Parameter type OIDs, as the server described them (they pick PGlite's serializers). */
  paramTypes: number[];
  /** Absent for statements that return no rows (NoData). */
  rowDescription: BackendMessage | undefined;
}

/** Beyond this many distinct SQL texts, new ones run through PGlite's query() unprepared. */
const MAX_STATEMENTS = 500;
/** "cached plan must not change result type": a table changed under a prepared statement. */
const FEATURE_NOT_SUPPORTED = '0A000';

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const utf8 = new TextEncoder();
// Execute (unnamed portal, all rows) and Sync, as sent after every Bind.
const EXECUTE_SYNC = new Uint8Array([0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0x53, 0, 0, 0, 4]);

/** Bind (text parameters, text results), Execute and Sync in one buffer. */
function bindExecuteSync(name: Uint8Array, values: (string | null)[]): Uint8Array {
  const encoded = values.map((v) => (v === null ? null : utf8.encode(v)));
  const length = 4 + 1 + name.length + 1 + 2 + 2 + encoded.reduce((n, v) => n + 4 + (v?.length ?? 0), 0) + 2;
  const out = new Uint8Array(1 + length + EXECUTE_SYNC.length);
  const view = new DataView(out.buffer);
  out[0] = 0x42; // 'B'
  view.setInt32(1, length);
  let at = 6; // after the empty portal name's terminator
  out.set(name, at);
  at += name.length + 1;
  view.setInt16(at, 0); // no parameter format codes: all text
  view.setInt16(at + 2, encoded.length);
  at += 4;
  for (const v of encoded) {
    view.setInt32(at, v === null ? -1 : v.length);
    at += 4;
    if (v !== null) {
      out.set(v, at);
      at += v.length;
    }
  }
  view.setInt16(at, 0); // no result format codes: all text
  out.set(EXECUTE_SYNC, at + 2);
  return out;
}

interface Row { fields: (string | null)[] }
interface Described { fields: { name: string; dataTypeID: number }[] }

/** Rows as PGlite's parseResults makes them; the count from the command tag, as the `pg` driver gives it. */
function rowsOf<T>(statement: Statement, messages: BackendMessage[], parsers: Record<number | string, (x: string, type: number) => unknown>): QueryResult<T> {
  const fields = (statement.rowDescription as unknown as Described | undefined)?.fields ?? [];
  const rows: T[] = [];
  let rowCount: number | null = null;
  for (const message of messages) {
    if (message.name === 'dataRow') {
      const values = (message as unknown as Row).fields;
      const row: Record<string, unknown> = {};
      for (let i = 0; i < fields.length; i++) {
        const value = values[i] ?? null;
        const parser = parsers[fields[i]!.dataTypeID];
        row[fields[i]!.name] = value === null || !parser ? value : parser(value, fields[i]!.dataTypeID);
      }
      rows.push(row as T);
    } else if (message.name === 'commandComplete') {
      // "SELECT 2", "UPDATE 3", "INSERT 0 5": the count is the last word.
      const count = Number((message as unknown as { text: string }).text.split(' ').pop());
      if (Number.isInteger(count)) rowCount = count;
    }
  }
  return { rows, rowCount: rowCount ?? rows.length };
}

/**
 * Queries outside transactions as named prepared statements, each run in one
 * call into the WASM engine. PGlite's query() sends parse, describe, bind,
 * describe, execute and sync as six calls and plans the statement every time:
 * about 310 µs for a primary-key lookup on this machine, against 85 µs for
 * bind + execute + sync of a prepared statement in one call. Column values go
 * through PGlite's own parsers and parameters through its serializers, as in
 * query(); each query holds PGlite's transaction and query locks, so it never
 * runs inside someone else's transaction.
 *
 *   const statements = new PreparedStatements(pg);
 *   await statements.query('SELECT role FROM users WHERE id = $1', ['usr_1']); // prepares, then runs
 *   await statements.query('SELECT role FROM users WHERE id = $1', ['usr_2']); // runs only
 */
export class PreparedStatements {
  private readonly statements = new Map<string, Statement>();
  private prepared = 0;

  constructor(private readonly pg: PGlite) {}

  async query<T>(sql: string, params: readonly unknown[]): Promise<QueryResult<T>> {
    const result = await this.pg._runExclusiveTransaction(() => this.pg._runExclusiveQuery(() => this.run<T>(sql, params, false)));
    // Not preparable here (a syntax error, an unknown table, too many texts): PGlite's own path,
    // which also gives its usual error.
    return result ?? this.unprepared<T>(sql, params);
  }

  /**
   * The same inside PGlite's transaction(), which holds the transaction lock
   * already: only the query lock is taken. There an error aborts the
   * transaction, so nothing is retried unprepared: a statement that fails to
   * prepare or whose plan went stale fails the transaction with its own error.
   * Beyond MAX_STATEMENTS texts, `unprepared` (the transaction's own query) runs it.
   * PGlite's query() parses and plans every time: `SELECT $1::int` in a transaction
   * took 0.065 ms that way and 0.021 ms prepared on this machine; a hold runs five statements in one.
   */
  async queryInTransaction<T>(sql: string, params: readonly unknown[], unprepared: (sql: string, params: readonly unknown[]) => Promise<QueryResult<T>>): Promise<QueryResult<T>> {
    const result = await this.pg._runExclusiveQuery(() => this.run<T>(sql, params, true));
    return result ?? unprepared(sql, params);
  }

  private async run<T>(sql: string, params: readonly unknown[], inTransaction: boolean): Promise<QueryResult<T> | null> {
    const statement = this.statements.get(sql) ?? (await this.prepare(sql, inTransaction));
    if (!statement) return null;
    const values = params.map((param, i) => {
      if (param === null || param === undefined) return null;
      const serialize = this.pg.serializers[statement.paramTypes[i]!];
      return serialize ? serialize(param) : String(param);
    });
    let messages: BackendMessage[];
    try {
      ({ messages } = await this.pg.execProtocol(bindExecuteSync(statement.nameBytes, values)));
    } catch (error) {
      if (sqlState(error) !== FEATURE_NOT_SUPPORTED) throw error;
      this.statements.delete(sql);
      if (inTransaction) throw error; // the transaction is aborted: it fails, the next one prepares afresh
      // The statement's plan no longer fits its tables: forget it, run this one unprepared.
      await this.pg.execProtocol(concat([protocol.serialize.close({ type: 'S', name: statement.name }), protocol.serialize.sync()]));
      return null;
    }
    return rowsOf<T>(statement, messages, this.pg.parsers);
  }

  private async prepare(sql: string, inTransaction: boolean): Promise<Statement | null> {
    if (this.statements.size >= MAX_STATEMENTS) return null;
    const name = `stmt_${++this.prepared}`;
    let messages: BackendMessage[];
    try {
      ({ messages } = await this.pg.execProtocol(
        concat([protocol.serialize.parse({ name, text: sql }), protocol.serialize.describe({ type: 'S', name }), protocol.serialize.sync()]),
      ));
    } catch (error) {
      if (inTransaction) throw error;
      return null;
    }
    const statement: Statement = {
      name,
      nameBytes: utf8.encode(name),
      paramTypes: parse.parseDescribeStatementResults(messages),
      rowDescription: messages.find((m) => m.name === 'rowDescription'),
    };
    this.statements.set(sql, statement);
    return statement;
  }

  private async unprepared<T>(sql: string, params: readonly unknown[]): Promise<QueryResult<T>> {
    const result = await this.pg.query<T>(sql, params as unknown[]);
    return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length };
  }
}
