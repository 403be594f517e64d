import type { Store } from '../../src/db/store.js';

const TABLES = [
  'organisations',
  'users',
  'api_keys',
  'refresh_tokens',
  'revoked_sessions',
  'contacts',
  'contact_consent',
  'groups',
  'memberships',
  'idempotency_keys',
  'import_jobs',
  'import_errors',
  'import_changes',
  'settings',
] as const;

/**
 * Every row of every table, as sorted JSON lines: two equal snapshots mean nothing was written
 * in between. Read directly, as an observer: what a failed request must not have done is
 * invisible to the API by design (a row of another organisation, a token, a key).
 * An API key's last_used_at is left out: using a valid key is meant to touch it.
 */
export async function snapshot(store: Store): Promise<string[]> {
  const lines: string[] = [];
  for (const table of TABLES) {
    const rows = (await store.db.selectFrom(table).selectAll().execute()) as Record<string, unknown>[];
    for (const row of rows) lines.push(`${table} ${JSON.stringify({ ...row, last_used_at: undefined })}`);
  }
  return lines.sort();
}
