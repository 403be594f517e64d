import {
  CompiledQuery,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  type SqliteDatabase,
} from 'kysely';

/**
 * SQLite with a connection for writing and one for reading. In WAL mode a reader never waits
 * for the writer, but only on a connection of its own: Kysely's driver has one, so every read
 * queued behind whatever transaction held it (an import batch, a group of writes waiting to
 * commit together, group-commit.ts). Here a transaction (and any statement run inside it)
 * holds the writer; a select outside a transaction goes to the reader and sees what is
 * committed, nothing of a transaction still open; any other statement outside a transaction
 * waits its turn on the writer.
 *
 * Transactions begin immediate: the write lock is taken before the first read, so a
 * transaction's snapshot cannot go stale under another process's write.
 *
 * Without a reader (an in-memory database, which a second connection would not share), the
 * writer serves both, as Kysely's own driver does.
 */
export function splitSqliteDialect(
  writer: SqliteDatabase,
  reader?: SqliteDatabase,
  checkpointer?: { terminate(): Promise<unknown> },
): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createDriver: () =>
      new SplitDriver(new Side(writer), reader ? new Side(reader) : undefined, checkpointer),
  };
}

const BEGIN = CompiledQuery.raw('begin immediate');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');

class SplitDriver implements Driver {
  readonly #reader: Side;

  constructor(
    readonly writer: Side,
    reader: Side | undefined,
    private readonly checkpointer?: { terminate(): Promise<unknown> },
  ) {
    this.#reader = reader ?? writer;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new RoutedConnection(this.writer, this.#reader);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as RoutedConnection).holdWriter();
    await connection.executeQuery(BEGIN);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(COMMIT);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(ROLLBACK);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as RoutedConnection).releaseWriter();
  }

  async destroy(): Promise<void> {
    // The checkpointer's connection goes first, so the writer's close, the last, checkpoints what is left.
    await this.checkpointer?.terminate();
    this.writer.db.close();
    if (this.#reader !== this.writer) this.#reader.db.close();
  }
}

/** One SQLite connection and its turn-taking: a statement being iterated keeps it busy. */
class Side {
  readonly lock = new Mutex();
  constructor(readonly db: SqliteDatabase) {}
}

class RoutedConnection implements DatabaseConnection {
  #holdsWriter = false;

  constructor(
    private readonly writer: Side,
    private readonly reader: Side,
  ) {}

  async holdWriter(): Promise<void> {
    // A connection holds the writer from its first transaction until it is released: Kysely's
    // migrator runs every migration on one connection, and two that open a transaction each
    // would otherwise have the second wait for the first's lock forever.
    if (this.#holdsWriter) return;
    await this.writer.lock.lock();
    this.#holdsWriter = true;
  }

  releaseWriter(): void {
    if (!this.#holdsWriter) return;
    this.#holdsWriter = false;
    this.writer.lock.unlock();
  }

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.#holdsWriter) return settled(() => run<R>(this.writer.db, query));
    const side = this.sideFor(query);
    // Uncontended (the usual case for the reader), the statement runs now, without a turn in the queue.
    if (side.lock.tryLock())
      return settled(
        () => run<R>(side.db, query),
        () => side.lock.unlock(),
      );
    return side.lock.lock().then(() =>
      settled(
        () => run<R>(side.db, query),
        () => side.lock.unlock(),
      ),
    );
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(query.query)) throw new Error('SQLite streams only select queries');
    if (this.#holdsWriter) {
      yield* stream<R>(this.writer.db, query);
      return;
    }
    await this.reader.lock.lock();
    try {
      yield* stream<R>(this.reader.db, query);
    } finally {
      this.reader.lock.unlock();
    }
  }

  private sideFor(query: CompiledQuery): Side {
    return SelectQueryNode.is(query.query) ? this.reader : this.writer;
  }
}

function settled<T>(work: () => T, done?: () => void): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  } finally {
    done?.();
  }
}

function run<R>(db: SqliteDatabase, { sql, parameters }: CompiledQuery): QueryResult<R> {
  const statement = db.prepare(sql);
  if (statement.reader) return { rows: statement.all(parameters) as R[] };
  const { changes, lastInsertRowid } = statement.run(parameters);
  return {
    numAffectedRows: changes === undefined || changes === null ? undefined : BigInt(changes),
    insertId: lastInsertRowid === undefined || lastInsertRowid === null ? undefined : BigInt(lastInsertRowid),
    rows: [],
  };
}

function* stream<R>(db: SqliteDatabase, { sql, parameters }: CompiledQuery): Iterable<QueryResult<R>> {
  for (const row of db.prepare(sql).iterate(parameters)) yield { rows: [row as R] };
}

/** First come, first served; the lock passes straight to the next in line. */
class Mutex {
  #held = false;
  readonly #waiting: (() => void)[] = [];

  tryLock(): boolean {
    if (this.#held) return false;
    this.#held = true;
    return true;
  }

  lock(): Promise<void> {
    if (this.tryLock()) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  unlock(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#held = false;
  }
}
