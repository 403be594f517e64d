import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import type { Dialect } from './connection.js';
import { core } from './migrations/0001_core.js';
import { imports } from './migrations/0002_imports.js';
import { tokenRevocation } from './migrations/0003_token_revocation.js';

/** Migrations are compiled into the package, so `roster migrate` needs no files on disk. */
function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_core': core(dialect),
    '0002_imports': imports(dialect),
    '0003_token_revocation': tokenRevocation(dialect),
  };
}

export async function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(dialect) },
    migrationTableName: 'roster_migrations',
    migrationLockTableName: 'roster_migrations_lock',
  });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error;
  return result;
}
