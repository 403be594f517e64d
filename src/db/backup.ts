import { existsSync } from 'node:fs';
import SqliteDatabase from 'better-sqlite3';
import { DomainError } from '../domain/errors.js';

const sqlitePath = (url: string): string => {
  if (!url.startsWith('sqlite:') || url === 'sqlite::memory:')
    throw new DomainError(
      'validation',
      'roster backup and restore copy a SQLite file; back PostgreSQL up with pg_dump (docs/scaling.md, "Backups")',
    );
  return url.slice('sqlite:'.length);
};

/** Copies `from` into `to` with SQLite's online backup API, the rest in one step after the first. */
async function copy(from: string, to: string): Promise<number> {
  const source = new SqliteDatabase(from, { fileMustExist: true });
  try {
    // Each step reads a consistent snapshot; a write by another connection between two steps
    // starts the copy again, so after the first step everything left goes in one.
    const { totalPages } = await source.backup(to, { progress: ({ remainingPages }) => remainingPages + 1 });
    return totalPages;
  } finally {
    source.close();
  }
}

function check(path: string): void {
  const copied = new SqliteDatabase(path, { readonly: true });
  try {
    const result = copied.pragma('integrity_check', { simple: true });
    if (result !== 'ok')
      throw new Error(`the copy at ${path} failed SQLite's integrity check: ${String(result)}`);
  } finally {
    copied.close();
  }
}

/**
 * `roster backup FILE`: a consistent copy of the SQLite database while servers keep serving (the
 * online backup API reads under a shared lock; writers go on), checked before it is reported.
 */
export async function backupDatabase(url: string, file: string): Promise<{ pages: number }> {
  const from = sqlitePath(url);
  if (existsSync(file)) throw new DomainError('conflict', `${file} exists: name a new file for the backup`);
  const pages = await copy(from, file);
  check(file);
  return { pages };
}

/**
 * `roster restore FILE`: the database becomes the backup's copy. Stop every server on it first: a
 * server's open connections would go on with what they had cached.
 */
export async function restoreDatabase(url: string, file: string): Promise<{ pages: number }> {
  const to = sqlitePath(url);
  check(file);
  return { pages: await copy(file, to) };
}
