import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../connection.js';
import { INSTANCE_TENANT, TENANT_SETTING } from '../tenant-session.js';

/** The tables of an organisation's data: visible only under that organisation's tenant setting. */
const ORGANISATION_DATA = [
  'contacts',
  'contact_consent',
  'groups',
  'memberships',
  'idempotency_keys',
  'import_errors',
  'import_changes',
  'revoked_sessions',
];

/**
 * Tables the instance-level lookups read before an organisation is known (a credential by
 * its hash, a username) or across organisations (imports a restart interrupted).
 */
const INSTANCE_READABLE = ['users', 'api_keys', 'refresh_tokens', 'import_jobs'];

const tenant = sql`current_setting(${sql.lit(TENANT_SETTING)}, true)`;
const instance = sql`${tenant} = ${sql.lit(INSTANCE_TENANT)}`;

async function protect(db: Kysely<any>, table: string, rule: ReturnType<typeof sql>) {
  await sql`alter table ${sql.table(table)} enable row level security`.execute(db);
  await sql`alter table ${sql.table(table)} force row level security`.execute(db);
  await sql`create policy tenant_isolation on ${sql.table(table)} using (${rule}) with check (${rule})`.execute(
    db,
  );
}

/** The policy of a table of an organisation's data, for the tables later migrations add. */
export const tenantPolicy = (db: Kysely<any>, table: string) =>
  protect(db, table, sql`organisation_id = ${tenant}`);

/** The policy of a table the instance-level lookups and workers read too (jobs taken over, webhook deliveries). */
export const instancePolicy = (db: Kysely<any>, table: string) =>
  protect(db, table, sql`(organisation_id = ${tenant} or ${instance})`);

/**
 * PostgreSQL row-level security, forced so that it binds the tables' owner as well: the
 * second line of tenancy behind TenantScope (see src/db/tenant-session.ts). SQLite has no
 * such thing; there the data layer is the only line.
 */
export function rowLevelSecurity(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      if (dialect !== 'postgres') return;
      for (const table of ORGANISATION_DATA) await tenantPolicy(db, table);
      for (const table of INSTANCE_READABLE) await instancePolicy(db, table);
      await protect(db, 'organisations', sql`(id = ${tenant} or ${instance})`);
      // Only a table's owner may ANALYZE it; imports need fresh statistics (src/db/store.ts).
      await sql`create function roster_refresh_statistics() returns void language plpgsql
        security definer set search_path = public as $$
        begin analyze contacts, memberships, contact_consent, groups; end $$`.execute(db);
      await sql`revoke all on function roster_refresh_statistics() from public`.execute(db);
    },
  };
}
