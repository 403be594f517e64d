import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../connection.js';
import { bigintType } from './columns.js';
import { instancePolicy, tenantPolicy } from './0004_row_level_security.js';

/**
 * The change log (docs/changes.md): every committed change of an organisation, numbered in
 * commit order by the organisation's counter row, which a transaction takes last, just before
 * it commits (db/changes-log.ts). Webhook endpoints and their deliveries, which the delivery
 * worker claims across organisations (so instance-readable on PostgreSQL, like import_jobs).
 */
export function changes(dialect: Dialect): Migration {
  const bigint = bigintType(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('changes')
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('seq', bigint, (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('resource_type', 'text', (c) => c.notNull())
        .addColumn('resource_id', 'text', (c) => c.notNull())
        .addColumn('version', 'integer')
        .addColumn('user_id', 'text')
        .addColumn('credential_kind', 'text', (c) => c.notNull())
        .addColumn('credential_id', 'text')
        .addColumn('surface', 'text', (c) => c.notNull())
        .addColumn('occurred_at', bigint, (c) => c.notNull())
        .addColumn('data', 'text')
        .addPrimaryKeyConstraint('changes_pkey', ['organisation_id', 'seq'])
        .execute();
      await db.schema
        .createIndex('changes_resource')
        .on('changes')
        .columns(['organisation_id', 'resource_id', 'seq'])
        .execute();
      await db.schema
        .createTable('change_counters')
        .addColumn('organisation_id', 'text', (c) => c.primaryKey())
        .addColumn('seq', bigint, (c) => c.notNull())
        .addColumn('pruned_through', bigint, (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('webhook_endpoints')
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('disabled_reason', 'text')
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('previous_secret', 'text')
        .addColumn('previous_secret_until', bigint)
        .addColumn('created_by', 'text')
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('updated_at', bigint, (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('webhook_endpoints_pkey', ['organisation_id', 'id'])
        .execute();
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('endpoint_id', 'text', (c) => c.notNull())
        .addColumn('seq', bigint)
        .addColumn('position', bigint, (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('payload', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', bigint)
        .addColumn('lease_until', bigint)
        .addColumn('last_status', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('response_excerpt', 'text')
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('finished_at', bigint)
        .addPrimaryKeyConstraint('webhook_deliveries_pkey', ['organisation_id', 'id'])
        .execute();
      // An endpoint's deliveries in order (its list, and the worker's next one); then the due ones.
      await db.schema
        .createIndex('webhook_deliveries_endpoint')
        .on('webhook_deliveries')
        .columns(['organisation_id', 'endpoint_id', 'position', 'created_at'])
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_due')
        .on('webhook_deliveries')
        .columns(['organisation_id', 'status', 'next_attempt_at'])
        .execute();
      if (dialect === 'postgres') {
        await tenantPolicy(db, 'changes');
        await tenantPolicy(db, 'change_counters');
        await instancePolicy(db, 'webhook_endpoints');
        await instancePolicy(db, 'webhook_deliveries');
      }
    },
    async down(db: Kysely<any>) {
      for (const table of ['webhook_deliveries', 'webhook_endpoints', 'change_counters', 'changes'])
        await sql`drop table ${sql.table(table)}`.execute(db);
    },
  };
}
