import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import type { SqliteDatabase as KyselySqliteDatabase } from 'kysely';

/**
 * Kysely's SQLite driver prepares every statement it runs, and preparing costs more than
 * running a single-row read. The queries Roster sends are few distinct texts with bound
 * values, so the prepared statements are kept, keyed by their SQL, the least recently used
 * dropped beyond `max` (long IN lists make texts of their own).
 */
export function cachingStatements(sqlite: SqliteDatabase, max = 500): KyselySqliteDatabase {
  const cache = new Map<string, Statement>();
  return {
    close: () => {
      cache.clear();
      sqlite.close();
    },
    prepare: (sql: string) => {
      const cached = cache.get(sql);
      // A statement still being iterated (a streamed query) cannot run again until it ends.
      if (cached && !cached.busy) {
        cache.delete(sql);
        cache.set(sql, cached);
        return cached;
      }
      const statement = sqlite.prepare(sql);
      if (cached) return statement;
      cache.set(sql, statement);
      if (cache.size > max) cache.delete(cache.keys().next().value!);
      return statement;
    },
  };
}
