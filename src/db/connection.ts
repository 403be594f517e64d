import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import type { Database as SqliteConnection } from 'better-sqlite3';
import { Kysely, type LogEvent } from 'kysely';
import type PgModule from 'pg';
import { lazyRequire } from '../domain/lazy.js';
import { withConflictErrors } from './conflicts.js';
import type { Database } from './schema.js';
import { startCheckpointer } from './checkpointer.js';
import { splitSqliteDialect } from './sqlite-driver.js';
import { cachingStatements } from './statement-cache.js';
import { TenantPostgresDialect } from './tenant-session.js';

export type Dialect = 'sqlite' | 'postgres';

export interface ConnectionOptions {
  /** sqlite:PATH, sqlite::memory:, or postgres://... */
  url: string;
  /**
   * PostgreSQL: a connection as the role that owns the tables, used only to migrate and to grant
   * `url`'s role its data privileges, so that the role serving requests owns nothing and stays
   * under row-level security. Unset: `url` migrates too.
   */
  ownerUrl?: string;
  /** SQLite's synchronous pragma: NORMAL (default, durable against a process crash in WAL mode) or FULL. */
  sqliteSynchronous?: 'NORMAL' | 'FULL';
  poolSize?: number;
  /** How long SQLite waits for another connection's lock before answering busy (409). */
  sqliteBusyTimeoutMs?: number;
  /**
   * SQLite: past this size the checkpoint thread makes the next writer start the WAL afresh,
   * and a WAL file left bigger is cut back to it (journal_size_limit). 64 MiB unless given.
   */
  sqliteWalLimitBytes?: number;
  /** Told each statement's time and whether it failed (the metrics); nothing is timed when unset. */
  onStatement?: (durationMs: number, failed: boolean) => void;
}

export interface Connection {
  dialect: Dialect;
  db: Kysely<Database>;
  /** PostgreSQL: the pool's connections now. */
  pool?: () => PoolStats;
  /** SQLite's promise about acknowledged writes; PostgreSQL's is the server's to say (guarantees.ts). */
  durability?: string;
  /** SQLite: a mark that changes whenever a write is made, by this process or another (Store.changeMark). */
  changeMark?: () => string;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/** Kysely's log option, timing statements for `onStatement`. */
const statementLog = (options: ConnectionOptions) =>
  options.onStatement &&
  ((event: LogEvent) => options.onStatement!(event.queryDurationMillis, event.level === 'error'));

/** pg, loaded when a PostgreSQL URL is first opened: a server on SQLite never loads it. */
const pg = lazyRequire<typeof PgModule>('pg', (loaded) =>
  // bigint (int8) columns hold integer keys and epoch milliseconds, all well inside 2^53.
  loaded.types.setTypeParser(loaded.types.builtins.INT8, (value) => Number.parseInt(value, 10)),
);

function dialectOf(url: string): Dialect {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  throw new Error(`DATABASE_URL must start with sqlite: or postgres:// (got ${url.split(':')[0]}:...)`);
}

export function connect(options: ConnectionOptions): Connection {
  return dialectOf(options.url) === 'sqlite' ? connectSqlite(options) : connectPostgres(options);
}

function connectSqlite(options: ConnectionOptions): Connection {
  const path = options.url.slice('sqlite:'.length);
  const inMemory = path === ':memory:';
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  const synchronous = options.sqliteSynchronous ?? 'NORMAL';
  const writer = openSqlite(path, options);
  writer.pragma('journal_mode = WAL');
  writer.pragma(`synchronous = ${synchronous}`);
  // ANALYZE reads at most this many entries an index. SQLite takes the organisation column of an
  // index read no further for as many contacts as it read: `pragma optimize`'s 2,000 made an
  // organisation of 50,000 look like 2,001, and lookups of 1,000 numbers scanned it instead.
  writer.pragma('analysis_limit = 100000');
  // A second connection to read while the first writes (sqlite-driver.ts); an in-memory
  // database is private to its connection, so it has the one.
  const reader = inMemory ? undefined : openSqlite(path, options);
  reader?.pragma('query_only = 1');
  const walLimitBytes = options.sqliteWalLimitBytes ?? 64 * 1024 * 1024;
  if (!inMemory) {
    writer.pragma('wal_autocheckpoint = 0');
    writer.pragma(`journal_size_limit = ${walLimitBytes}`);
  }
  const checkpointer = inMemory ? undefined : startCheckpointer(path, synchronous, walLimitBytes);
  const durability =
    synchronous === 'FULL'
      ? 'SQLite WAL, synchronous=FULL: every acknowledged write survives a process crash and a power loss'
      : 'SQLite WAL, synchronous=NORMAL: every acknowledged write survives a process crash (kill -9); the last transactions before a power loss may be lost';
  // data_version moves when another connection (the CLI, another process) commits; total_changes
  // with every row this process writes, committed or not yet.
  const dataVersion = writer.prepare('pragma data_version').pluck();
  const totalChanges = writer.prepare('select total_changes()').pluck();
  return {
    dialect: 'sqlite',
    changeMark: () => `${dataVersion.get()}:${totalChanges.get()}`,
    db: new Kysely<Database>({
      dialect: withConflictErrors(
        splitSqliteDialect(cachingStatements(writer), reader && cachingStatements(reader), checkpointer),
      ),
      log: statementLog(options),
    }),
    durability,
  };
}

function openSqlite(path: string, options: ConnectionOptions): SqliteConnection {
  const sqlite = new SqliteDatabase(path);
  sqlite.pragma(`busy_timeout = ${options.sqliteBusyTimeoutMs ?? 5000}`);
  // 8 MiB of pages a connection: the operating system caches the file as well, so a bigger
  // private cache bought no speed on 1,000,000 contacts (2 GB) and held the server above 150 MB of RSS.
  sqlite.pragma('cache_size = -8192');
  sqlite.pragma('temp_store = MEMORY');
  return sqlite;
}

function connectPostgres(options: ConnectionOptions): Connection {
  const pool = new (pg().Pool)({ connectionString: options.url, max: options.poolSize ?? 10 });
  // An idle connection the server drops (a restart, an administrator) is an 'error' event on
  // the pool; unhandled, it would end the process. The pool discards that client and the
  // next query opens a new one, so there is nothing else to do.
  pool.on('error', () => {});
  return {
    dialect: 'postgres',
    db: new Kysely<Database>({
      dialect: withConflictErrors(new TenantPostgresDialect({ pool })),
      log: statementLog(options),
    }),
    pool: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
}
