import Database from 'better-sqlite3';

/**
 * SQLite's own checks on a database file as a crash left it (read-only: nothing is repaired
 * or checkpointed first). "ok" when both pass, else what they found.
 */
export function checkSqliteFile(path: string): string {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const integrity = db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[];
    const foreignKeys = db.pragma('foreign_key_check') as unknown[];
    const found = integrity.map((r) => r.integrity_check).filter((r) => r !== 'ok');
    if (foreignKeys.length > 0) found.push(`${foreignKeys.length} foreign key violations`);
    return found.length === 0 ? 'ok' : found.join('; ');
  } finally {
    db.close();
  }
}
