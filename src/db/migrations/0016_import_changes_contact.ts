import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../connection.js';

/**
 * Two things a long import needs to stay linear (issue 21):
 * - Each batch asks which of the contacts it matched the import has already written
 *   (imports.ts contactsTouchedByImport). By the job's index alone that read every change the
 *   job had made so far, batch after batch (12% of a 100,000-row import on SQLite, and growing
 *   with the square of its size); this index makes it one lookup a contact.
 * - PostgreSQL: the statistics an import refreshes as it grows (jobs.ts) now cover the tables
 *   its batches also write and read back: the duplicate keys and sets, its undo log and the
 *   change log. With the duplicate keys never analysed, the planner took a table of 350,000
 *   keys for 7 rows and read all of a kind's keys to find a batch's 1,000 values (a third of a
 *   100,000-row import's time).
 */
export function importChangesContact(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createIndex('import_changes_contact')
        .on('import_changes')
        .columns(['organisation_id', 'job_key', 'contact_key'])
        .execute();
      if (dialect !== 'postgres') return;
      await sql`create or replace function roster_refresh_statistics() returns void language plpgsql
        security definer set search_path = public as $$
        begin analyze contacts, contact_words, memberships, contact_consent, groups,
          duplicate_keys, duplicate_sets, import_changes, changes; end $$`.execute(db);
    },
  };
}
