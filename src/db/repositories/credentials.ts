import type { Selectable } from 'kysely';
import { isoOrNull, iso, type ApiKey } from '../../domain/records.js';
import type { ApiKeysTable, RefreshTokensTable } from '../schema.js';
import { prepare } from '../prepared.js';
import type { TenantScope } from '../scope.js';

export type ApiKeyRow = Selectable<ApiKeysTable>;

export function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    organisation_id: row.organisation_id,
    user_id: row.user_id,
    name: row.name,
    prefix: row.prefix,
    last_used_at: isoOrNull(row.last_used_at),
    revoked_at: isoOrNull(row.revoked_at),
    created_at: iso(row.created_at),
  };
}

export async function insertApiKey(scope: TenantScope, row: Omit<ApiKeyRow, 'key' | 'organisation_id'>) {
  const inserted = await scope.insertInto('api_keys', row).returningAll().executeTakeFirstOrThrow();
  scope.record({ type: 'api_key.created', resourceId: inserted.id });
  return inserted;
}

export function listApiKeyRows(scope: TenantScope) {
  return scope.selectFrom('api_keys').selectAll().orderBy('key').execute();
}

export function findApiKeyRow(scope: TenantScope, id: string) {
  return scope.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function revokeApiKey(scope: TenantScope, id: string, now: number): Promise<void> {
  const { numUpdatedRows } = await scope
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (numUpdatedRows > 0n) scope.record({ type: 'api_key.revoked', resourceId: id });
}

export async function touchApiKey(scope: TenantScope, id: string, now: number): Promise<void> {
  await scope.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute();
}

export async function insertRefreshToken(
  scope: TenantScope,
  row: Omit<Selectable<RefreshTokensTable>, 'organisation_id'>,
) {
  await scope.insertInto('refresh_tokens', row).execute();
}

/** Marks a token used; returns false if it was already used or revoked (a replay). */
export async function consumeRefreshToken(scope: TenantScope, id: string, now: number): Promise<boolean> {
  const result = await scope
    .updateTable('refresh_tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function revokeRefreshFamily(scope: TenantScope, familyId: string, now: number): Promise<void> {
  await scope
    .updateTable('refresh_tokens')
    .set({ revoked_at: now })
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Revokes every token a user holds: their refresh tokens, and (by a new generation) their access tokens. */
export async function revokeUserTokens(scope: TenantScope, userId: string, now: number): Promise<void> {
  await scope
    .updateTable('refresh_tokens')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .execute();
  await scope
    .updateTable('users')
    .set((eb) => ({ token_generation: eb('token_generation', '+', 1) }))
    .where('id', '=', userId)
    .execute();
}

/** Lists a session as revoked until `until`; rows whose time has passed are swept on the way. */
export async function revokeSession(scope: TenantScope, sessionId: string, until: number, now: number) {
  await scope.deleteFrom('revoked_sessions').where('expires_at', '<=', now).execute();
  await scope
    .insertInto('revoked_sessions', { session_id: sessionId, expires_at: until })
    .onConflict((oc) => oc.columns(['organisation_id', 'session_id']).doUpdateSet({ expires_at: until }))
    .execute();
}

const REVOKED_SESSION = prepare((scope: TenantScope, p: { sessionId: string }) =>
  scope.selectFrom('revoked_sessions').select('session_id').where('session_id', '=', p.sessionId),
);

export async function isSessionRevoked(scope: TenantScope, sessionId: string): Promise<boolean> {
  return (await scope.run(REVOKED_SESSION, { sessionId })).length > 0;
}
