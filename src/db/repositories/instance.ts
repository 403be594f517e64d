import { type Kysely, type Selectable, type Updateable } from 'kysely';
import { iso, type Organisation } from '../../domain/records.js';
import { prepare, runPrepared } from '../prepared.js';
import type { Database, OrganisationsTable } from '../schema.js';
import { fieldChanges } from '../../domain/changes.js';
import type { TenantScope } from '../scope.js';

/**
 * The only queries not scoped to one organisation: organisations themselves, and the
 * lookups that find whose credential a request carries before any organisation is known.
 */
/** The instance database's compiled queries are one set, whatever organisation asks. */
const INSTANCE_KEY = '*';

export type OrganisationRow = Selectable<OrganisationsTable>;

export function toOrganisation(row: OrganisationRow): Organisation {
  return {
    key: row.key,
    id: row.id,
    name: row.name,
    default_country: row.default_country,
    default_language: row.default_language,
    allow_duplicate_phones: row.allow_duplicate_phones === 1,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    version: row.version,
  };
}

export function insertOrganisation(db: Kysely<Database>, row: Omit<OrganisationRow, 'key'>) {
  return db.insertInto('organisations').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Every contact write reads its organisation (country, phone rule): prepared. */
const ORGANISATION = prepare((db: Kysely<Database>, p: { id: string }) =>
  db.selectFrom('organisations').selectAll().where('id', '=', p.id),
);

export async function findOrganisationRow(db: Kysely<Database>, id: string) {
  const [row] = await runPrepared(ORGANISATION, db, INSTANCE_KEY, db, { id });
  return row;
}

const LOGGED_ORGANISATION_COLUMNS = ['name', 'default_country', 'default_language', 'allow_duplicate_phones'];

export async function updateOrganisationRow(
  scope: TenantScope,
  current: OrganisationRow,
  changes: Updateable<OrganisationsTable>,
) {
  const updated = await scope
    .organisation()
    .update()
    .set({ ...changes, version: current.version + 1 })
    .where('version', '=', current.version)
    .returningAll()
    .executeTakeFirst();
  if (updated)
    scope.record({
      type: 'organisation.updated',
      resourceId: updated.id,
      version: updated.version,
      changes: fieldChanges(current, updated, LOGGED_ORGANISATION_COLUMNS),
    });
  return updated;
}

/** Every organisation's id: for the sweeps that run per organisation (row-level security). */
export async function organisationIds(db: Kysely<Database>): Promise<string[]> {
  return (await db.selectFrom('organisations').select('id').execute()).map((row) => row.id);
}

/** Every enabled webhook endpoint, with its organisation: what the delivery worker serves. */
export function endpointsToServe(db: Kysely<Database>) {
  return db
    .selectFrom('webhook_endpoints')
    .select(['organisation_id', 'id'])
    .where('enabled', '=', 1)
    .execute();
}

/** Webhook deliveries waiting in every organisation, and how long the oldest has waited (metrics). */
export async function pendingDeliveries(db: Kysely<Database>, now = Date.now()) {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => [eb.fn.countAll<number | string>().as('n'), eb.fn.min('created_at').as('oldest')])
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return { count: Number(row.n), ageMs: row.oldest === null ? 0 : now - Number(row.oldest) };
}

export async function countOrganisations(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('organisations')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export function findUserByUsername(db: Kysely<Database>, username: string) {
  return db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
}

/** An API key by the hash of its secret, with its user's current row: one statement, as every request with a key runs it. */
const API_KEY_WITH_USER = prepare((db: Kysely<Database>, p: { secretHash: string }) =>
  db
    .selectFrom('api_keys')
    .innerJoin('users', (join) =>
      join
        .onRef('users.id', '=', 'api_keys.user_id')
        .onRef('users.organisation_id', '=', 'api_keys.organisation_id'),
    )
    .selectAll('users')
    .select(['api_keys.id as api_key_id', 'api_keys.revoked_at as api_key_revoked_at'])
    .where('api_keys.secret_hash', '=', p.secretHash),
);

export async function findApiKeyWithUser(db: Kysely<Database>, secretHash: string) {
  const [row] = await runPrepared(API_KEY_WITH_USER, db, INSTANCE_KEY, db, { secretHash });
  if (!row) return undefined;
  const { api_key_id, api_key_revoked_at, ...user } = row;
  return { id: api_key_id, revoked_at: api_key_revoked_at, user };
}

export function findRefreshTokenByHash(db: Kysely<Database>, tokenHash: string) {
  return db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

export async function getSetting(db: Kysely<Database>, name: string): Promise<string | undefined> {
  const row = await db.selectFrom('settings').select('value').where('name', '=', name).executeTakeFirst();
  return row?.value;
}

/** Stores a setting unless one is already there; returns the value that won. */
export async function putSettingOnce(db: Kysely<Database>, name: string, value: string): Promise<string> {
  await db
    .insertInto('settings')
    .values({ name, value })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  return (await getSetting(db, name)) ?? value;
}

/** An upload whose process died before it was whole cannot be imported: the file is incomplete. */
export async function failAbandonedUploads(db: Kysely<Database>, now: number): Promise<void> {
  await db
    .updateTable('import_jobs')
    .set({
      status: 'failed',
      error: 'the upload was cut off',
      lease_owner: null,
      lease_expires_at: null,
      updated_at: now,
    })
    .where('status', '=', 'receiving')
    .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]))
    .execute();
}
