import type { Database, Queryable, Transaction, TransactionWatcher } from './database.js';

type RawTransaction = <T>(fn: (tx: Queryable) => Promise<T>) => Promise<T>;

/**
 * Gives a driver's transaction() the `touches` of Transaction and the
 * watchers that hear of it. Each key is reported touching once per
 * transaction (at its first touch, while the transaction is open) and settled
 * once, after COMMIT or ROLLBACK returned and before transaction() does: so a
 * caller that got its answer knows every watcher already heard of its change.
 */
export function watchedTransactions(run: RawTransaction): Pick<Database, 'transaction' | 'watchTransactions'> {
  const watchers = new Set<TransactionWatcher>();
  return {
    watchTransactions(watcher) {
      watchers.add(watcher);
      return () => void watchers.delete(watcher);
    },
    async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
      const touched = new Map<string, [string, string]>();
      const touches = (topic: string, key: string) => {
        const id = `${topic}\u0000${key}`;
        if (touched.has(id)) return;
        touched.set(id, [topic, key]);
        for (const watcher of watchers) watcher.touching(topic, key);
      };
      let committed = false;
      try {
        const result = await run((tx) => fn({ query: tx.query.bind(tx), exec: tx.exec.bind(tx), touches }));
        committed = true;
        return result;
      } finally {
        for (const [topic, key] of touched.values()) for (const watcher of watchers) watcher.settled(topic, key, committed);
      }
    },
  };
}
