import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../connection.js';
import { bigintType } from './columns.js';
import { instancePolicy } from './0004_row_level_security.js';

/**
 * Background jobs run under a lease (src/db/leases.ts): the process running one holds it and
 * renews it; when that process dies the lease runs out and any other takes the job over.
 * A member job records its cursor, so the one taking it over goes on from the last page.
 */
export function leases(dialect: Dialect): Migration {
  const bigint = bigintType(dialect);
  return {
    async up(db: Kysely<any>) {
      for (const table of ['import_jobs', 'member_jobs']) {
        await db.schema.alterTable(table).addColumn('lease_owner', 'text').execute();
        await db.schema.alterTable(table).addColumn('lease_expires_at', bigint).execute();
      }
      await db.schema.alterTable('member_jobs').addColumn('cursor', 'text').execute();
      // Workers look for jobs to take over across organisations, as import_jobs' status index serves.
      await db.schema.createIndex('member_jobs_status').on('member_jobs').columns(['status']).execute();
      if (dialect === 'postgres') {
        await sql`drop policy tenant_isolation on member_jobs`.execute(db);
        await instancePolicy(db, 'member_jobs');
      }
    },
  };
}
