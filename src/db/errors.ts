import { DomainError } from '../domain/errors.js';

/** Recognises the database errors the services turn into domain errors, for either driver. */
export function isUniqueViolation(error: unknown): boolean {
  const code = codeOf(error);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

const codeOf = (error: unknown) => (error as { code?: unknown } | null)?.code;

/**
 * Conflicts with another transaction that a fresh attempt of the whole transaction can get past:
 * PostgreSQL's serialization_failure, deadlock_detected and lock_not_available (lock_timeout),
 * and SQLite's stale WAL snapshot (a read transaction that another connection wrote under).
 */
const RETRYABLE = new Set(['40001', '40P01', '55P03', 'SQLITE_BUSY_SNAPSHOT']);

/**
 * The database was locked by someone else. Plain SQLITE_BUSY is not retried here: SQLite's busy
 * handler has already waited busy_timeout for the lock, with the event loop blocked meanwhile.
 */
const BUSY = new Set([
  ...RETRYABLE,
  'SQLITE_BUSY',
  'SQLITE_BUSY_RECOVERY',
  'SQLITE_BUSY_TIMEOUT',
  'SQLITE_LOCKED',
  'SQLITE_LOCKED_SHAREDCACHE',
]);

/** Seconds a client is told to wait before trying again. */
export const BUSY_RETRY_AFTER_SECONDS = 1;

/** A driver's lock or serialisation error as the domain's `busy` (409, retryable); any other error as it is. */
export function asBusy(error: unknown): unknown {
  const code = codeOf(error);
  if (typeof code !== 'string' || !BUSY.has(code)) return error;
  return busy(code, RETRYABLE.has(code));
}

const busy = (code: unknown, retryable: boolean) =>
  new DomainError('busy', 'The database is busy with a concurrent change; retry shortly', {
    retryable,
    retry_after: BUSY_RETRY_AFTER_SECONDS,
    database_code: code,
  });

/**
 * A unique index caught a concurrent writer that took the same value after this transaction
 * checked it. On PostgreSQL the transaction can run no further query; run again (retry.ts),
 * its own check sees the other row and answers as it should (a duplicate, say).
 */
export const concurrentDuplicate = (error: unknown) => busy(codeOf(error), true);

/** A `busy` error that retrying the whole transaction may get past. */
export const isRetryable = (error: unknown) =>
  error instanceof DomainError && error.code === 'busy' && error.details.retryable === true;
