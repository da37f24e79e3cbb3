/**
 * Names for the statements a PostgreSQL connection should prepare once and
 * then only bind and execute: a text is named the second time it is seen
 * (a statement run once is not worth a name), and at most `maxNamed` texts
 * are ever named, so statements whose text varies (lists of placeholders)
 * cannot grow the server's per-connection caches without bound. `pg` prepares
 * a named statement on each connection the first time it runs there.
 *
 * Measured (bench/holds-ab.ts, PostgreSQL race of table 4, three rounds
 * alternated, load 2-3.7): 59 / 64 / 76 holds/s with unnamed statements, 79 /
 * 78 / 88 with them: the race's 1,500 losers parsed and planned the hold's
 * insert (a statement of several CTEs) every time before being refused.
 *
 *   const names = new StatementNames();
 *   names.nameFor('SELECT 1'); // undefined (first time)
 *   names.nameFor('SELECT 1'); // 'stmt_0'
 */
export class StatementNames {
  private readonly seen = new Map<string, string | null>();
  private named = 0;

  constructor(private readonly maxNamed = 400, private readonly maxSeen = 4 * maxNamed) {}

  nameFor(sql: string): string | undefined {
    const known = this.seen.get(sql);
    if (known) return known;
    if (known === null) {
      if (this.named >= this.maxNamed) return undefined;
      const name = `stmt_${this.named++}`;
      this.seen.set(sql, name);
      return name;
    }
    if (this.seen.size < this.maxSeen) this.seen.set(sql, null);
    return undefined;
  }
}
