import type { DatabaseConnection, Dialect, Driver } from 'kysely';
import { asBusy } from './errors.js';

async function translated<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asBusy(error);
  }
}

async function* translatedStream<T>(rows: AsyncIterableIterator<T>): AsyncIterableIterator<T> {
  try {
    yield* rows;
  } catch (error) {
    throw asBusy(error);
  }
}

/**
 * Wraps a Kysely dialect so that every statement, and every begin, commit and savepoint,
 * reports a lock or serialisation conflict as the domain's `busy` error (errors.ts): whichever
 * query meets one, inside a transaction or not, each surface answers 409 instead of 500.
 */
export function withConflictErrors(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => conflictDriver(dialect.createDriver()),
  };
}

function conflictDriver(driver: Driver): Driver {
  // The driver's own connection object goes back to it: a pool releases what it handed out.
  const inner = new WeakMap<DatabaseConnection, DatabaseConnection>();
  const own = (connection: DatabaseConnection) => inner.get(connection) ?? connection;
  return {
    init: () => driver.init(),
    destroy: () => driver.destroy(),
    acquireConnection: async () => {
      const connection = await translated(() => driver.acquireConnection());
      const wrapped: DatabaseConnection = {
        executeQuery: (query) => translated(() => connection.executeQuery(query)),
        streamQuery: (query, chunkSize) => translatedStream(connection.streamQuery(query, chunkSize)),
      };
      inner.set(wrapped, connection);
      return wrapped;
    },
    releaseConnection: (connection) => driver.releaseConnection(own(connection)),
    beginTransaction: (connection, settings) =>
      translated(() => driver.beginTransaction(own(connection), settings)),
    commitTransaction: (connection) => translated(() => driver.commitTransaction(own(connection))),
    rollbackTransaction: (connection) => translated(() => driver.rollbackTransaction(own(connection))),
    ...(driver.savepoint && {
      savepoint: (connection, name, compile) =>
        translated(() => driver.savepoint!(own(connection), name, compile)),
    }),
    ...(driver.rollbackToSavepoint && {
      rollbackToSavepoint: (connection, name, compile) =>
        translated(() => driver.rollbackToSavepoint!(own(connection), name, compile)),
    }),
    ...(driver.releaseSavepoint && {
      releaseSavepoint: (connection, name, compile) =>
        translated(() => driver.releaseSavepoint!(own(connection), name, compile)),
    }),
  };
}
