import { Migrator, sql, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import type { Dialect } from './connection.js';
import { core } from './migrations/0001_core.js';
import { imports } from './migrations/0002_imports.js';
import { tokenRevocation } from './migrations/0003_token_revocation.js';
import { rowLevelSecurity } from './migrations/0004_row_level_security.js';
import { contactWords } from './migrations/0005_contact_words.js';
import { membershipSortName } from './migrations/0006_membership_sort_name.js';
import { duplicates } from './migrations/0010_duplicates.js';
import { memberJobs } from './migrations/0011_member_jobs.js';
import { addressBooks } from './migrations/0012_address_books.js';
import { changes } from './migrations/0013_changes.js';
import { leases } from './migrations/0014_leases.js';
import { contactExtensions } from './migrations/0015_contact_extensions.js';
import { importChangesContact } from './migrations/0016_import_changes_contact.js';
import { contactDetails } from './migrations/0017_contact_details.js';

/** Migrations are compiled into the package, so `roster migrate` needs no files on disk. */
function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_core': core(dialect),
    '0002_imports': imports(dialect),
    '0003_token_revocation': tokenRevocation(dialect),
    '0004_row_level_security': rowLevelSecurity(dialect),
    '0005_contact_words': contactWords(dialect),
    '0006_membership_sort_name': membershipSortName(dialect),
    '0010_duplicates': duplicates(dialect),
    '0011_member_jobs': memberJobs(dialect),
    '0012_address_books': addressBooks(dialect),
    '0013_changes': changes(dialect),
    '0014_leases': leases(dialect),
    '0015_contact_extensions': contactExtensions(dialect),
    '0016_import_changes_contact': importChangesContact(dialect),
    '0017_contact_details': contactDetails(dialect),
  };
}

/** The migrator of Roster's migrations; tests take it to stop short of the latest. */
export const migrator = (db: Kysely<any>, dialect: Dialect) =>
  new Migrator({
    db,
    provider: { getMigrations: async () => migrations(dialect) },
    migrationTableName: 'roster_migrations',
    migrationLockTableName: 'roster_migrations_lock',
  });

export async function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<MigrationResultSet> {
  const result = await migrator(db, dialect).migrateToLatest();
  if (result.error) throw result.error;
  return result;
}

/**
 * Gives the role that serves requests what it needs and no more: rows of Roster's tables
 * (row-level security still applies) and their sequences, not the migrations' own tables,
 * and no ownership, so it can neither alter a table nor turn its policies off.
 */
export async function grantDataPrivileges(owner: Kysely<any>, role: string): Promise<void> {
  const grantee = sql.id(role);
  await sql`grant usage on schema public to ${grantee}`.execute(owner);
  await sql`grant select, insert, update, delete on all tables in schema public to ${grantee}`.execute(owner);
  await sql`grant usage, select on all sequences in schema public to ${grantee}`.execute(owner);
  await sql`grant execute on function roster_refresh_statistics() to ${grantee}`.execute(owner);
  await sql`revoke all on roster_migrations, roster_migrations_lock from ${grantee}`.execute(owner);
}
