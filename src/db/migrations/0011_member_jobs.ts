import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../connection.js';
import { bigintType } from './columns.js';
import { tenantPolicy } from './0004_row_level_security.js';

/**
 * Jobs that add every contact matching a filter to a group (POST /v1/groups/{id}/members/matching): a
 * selection of any size is done on the server, a page at a time, with its progress here.
 */
export function memberJobs(dialect: Dialect): Migration {
  const bigint = bigintType(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('member_jobs')
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('group_key', bigint, (c) => c.notNull())
        .addColumn('filter', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('matched', bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('added', bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .addColumn('created_by', 'text')
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('finished_at', bigint)
        .addPrimaryKeyConstraint('member_jobs_pkey', ['organisation_id', 'id'])
        .execute();
      if (dialect === 'postgres') await tenantPolicy(db, 'member_jobs');
    },
    async down(db: Kysely<any>) {
      await sql`drop table member_jobs`.execute(db);
    },
  };
}
