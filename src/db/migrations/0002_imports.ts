import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../connection.js';
import { bigintType, serialKey } from './columns.js';

/**
 * Import jobs, the rows they could not import, and the undo log that lets a whole
 * import be rolled back. Portable types only, as in 0001.
 */
export function imports(dialect: Dialect): Migration {
  const bigint = bigintType(dialect);
  const serialKeyOf = serialKey(dialect);

  return {
    async up(db: Kysely<any>) {
      await serialKeyOf(db.schema.createTable('import_jobs'))
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('options', 'text', (c) => c.notNull())
        .addColumn('spool_path', 'text')
        .addColumn('bytes', bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('rows_read', bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('created', bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('updated', bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('unchanged', bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('skipped', bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('skipped_in_file', bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('failed', bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('bytes_read', bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('last_row', bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .addColumn('rollback_report', 'text')
        .addColumn('created_by', 'text')
        .addColumn('started_at', bigint)
        .addColumn('finished_at', bigint)
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('updated_at', bigint, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('import_jobs_org_id')
        .unique()
        .on('import_jobs')
        .columns(['organisation_id', 'id'])
        .execute();
      await db.schema.createIndex('import_jobs_status').on('import_jobs').columns(['status']).execute();

      await db.schema
        .createTable('import_errors')
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('job_key', bigint, (c) => c.notNull())
        .addColumn('row_number', bigint, (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('raw', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('import_errors_pk', ['organisation_id', 'job_key', 'row_number'])
        .execute();

      await db.schema
        .createTable('import_changes')
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('job_key', bigint, (c) => c.notNull())
        .addColumn('row_number', bigint, (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('contact_key', bigint, (c) => c.notNull())
        .addColumn('group_key', bigint)
        .addColumn('before', 'text')
        .addColumn('after_version', 'integer')
        .execute();
      await db.schema
        .createIndex('import_changes_job')
        .on('import_changes')
        .columns(['organisation_id', 'job_key', 'row_number'])
        .execute();
    },
  };
}
