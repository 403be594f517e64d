import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../connection.js';
import { bigintType } from './columns.js';
import { tenantPolicy } from './0004_row_level_security.js';

const TEXT_COLUMNS = ['title', 'department', 'nickname', 'notes'];
/** JSON lists, null when empty (db/schema.ts says what each holds). */
const LIST_COLUMNS = ['phones', 'emails', 'addresses', 'dates', 'urls'];

/**
 * A contact as address books hold it (issue 17): title, department, nickname and notes; several
 * numbers and addresses with labels, postal addresses, dates and links as JSON lists. The numbers
 * and addresses beside the primary ones (which stay in phone and email, where every surface and
 * index reads them) are also kept one a row in contact_handles, so that `phone=`, `email=`,
 * imports' matching and the one-contact-per-number rule find a contact by any of them.
 * Existing contacts have one number and one address at most: nothing to backfill.
 */
export function contactDetails(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      for (const column of [...TEXT_COLUMNS, ...LIST_COLUMNS])
        await db.schema.alterTable('contacts').addColumn(column, 'text').execute();
      await db.schema
        .createTable('contact_handles')
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('contact_key', bigintType(dialect), (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('contact_handles_value')
        .unique()
        .on('contact_handles')
        .columns(['organisation_id', 'kind', 'value', 'contact_key'])
        .execute();
      await db.schema
        .createIndex('contact_handles_contact')
        .on('contact_handles')
        .columns(['organisation_id', 'contact_key'])
        .execute();
      if (dialect === 'postgres') await tenantPolicy(db, 'contact_handles');
    },
    async down(db: Kysely<any>) {
      await sql`drop table contact_handles`.execute(db);
      for (const column of [...TEXT_COLUMNS, ...LIST_COLUMNS])
        await db.schema.alterTable('contacts').dropColumn(column).execute();
    },
  };
}
