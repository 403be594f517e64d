import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../connection.js';
import { bigintType } from './columns.js';
import { tenantPolicy } from './0004_row_level_security.js';

/**
 * What an import kept but could not read as given: several warnings a row (a number kept raw,
 * an address left out...), each naming its field, the value and why, counted by kind in the
 * job's report. The job also says which text encoding it read the file in, and which country
 * its numbers read better under when that is not the one it was given.
 */
export function addressBooks(dialect: Dialect): Migration {
  const bigint = bigintType(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('import_jobs').addColumn('encoding', 'text').execute();
      await db.schema.alterTable('import_jobs').addColumn('country_hint', 'text').execute();
      await db.schema
        .createTable('import_warnings')
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('job_key', bigint, (c) => c.notNull())
        .addColumn('row_number', bigint, (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('field', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('import_warnings_pk', ['organisation_id', 'job_key', 'row_number', 'seq'])
        .execute();
      if (dialect === 'postgres') await tenantPolicy(db, 'import_warnings');
    },
  };
}
