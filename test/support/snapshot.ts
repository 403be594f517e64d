import pg from 'pg';
import type { Harness } from './harness.js';

const TABLES = [
  'organisations',
  'users',
  'api_keys',
  'refresh_tokens',
  'revoked_sessions',
  'contacts',
  'contact_consent',
  'duplicate_keys',
  'duplicate_sets',
  'merges',
  'groups',
  'memberships',
  'idempotency_keys',
  'import_jobs',
  'import_errors',
  'import_changes',
  'changes',
  'change_counters',
  'webhook_endpoints',
  'webhook_deliveries',
  'settings',
] as const;

/**
 * Every row of every table, as sorted JSON lines: two equal snapshots mean nothing was written
 * in between. Read directly, as an observer: what a failed request must not have done is
 * invisible to the API by design (a row of another organisation, a token, a key). On
 * PostgreSQL it reads as the database's owner (the suite's superuser), which row-level
 * security does not hide rows from; the app's own role would see none outside a tenant.
 * An API key's last_used_at is left out: using a valid key is meant to touch it.
 */
export async function snapshot(h: Harness): Promise<string[]> {
  const rows = h.database.ownerUrl ? await ownerRows(h.database.ownerUrl) : await appRows(h);
  return rows.map(([table, row]) => `${table} ${JSON.stringify({ ...row, last_used_at: undefined })}`).sort();
}

type Row = [table: string, row: Record<string, unknown>];

async function appRows(h: Harness): Promise<Row[]> {
  const rows: Row[] = [];
  for (const table of TABLES)
    for (const row of await h.store.db.selectFrom(table).selectAll().execute()) rows.push([table, row]);
  return rows;
}

async function ownerRows(url: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows: Row[] = [];
    for (const table of TABLES)
      for (const row of (await client.query(`select * from ${table}`)).rows) rows.push([table, row]);
    return rows;
  } finally {
    await client.end();
  }
}
