import type { Selectable, Updateable } from 'kysely';
import { iso, type User } from '../../domain/records.js';
import type { Role } from '../../domain/roles.js';
import type { UsersTable } from '../schema.js';
import { prepare } from '../prepared.js';
import { fieldChanges } from '../../domain/changes.js';
import type { TenantScope } from '../scope.js';
import { pageOf, type KeysetPage } from './paging.js';

export type UserRow = Selectable<UsersTable>;

export function toUser(row: UserRow): User {
  return {
    key: row.key,
    id: row.id,
    organisation_id: row.organisation_id,
    username: row.username,
    display_name: row.display_name,
    email: row.email,
    role: row.role as Role,
    is_active: row.is_active === 1,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    version: row.version,
  };
}

export async function insertUser(
  scope: TenantScope,
  row: Omit<UserRow, 'key' | 'organisation_id' | 'token_generation'>,
) {
  const inserted = await scope.insertInto('users', row).returningAll().executeTakeFirstOrThrow();
  scope.record({ type: 'user.created', resourceId: inserted.id, version: inserted.version });
  return inserted;
}

/** Every authenticated request reads its user's current row: prepared (prepared.ts). */
const USER_BY_ID = prepare((scope: TenantScope, p: { id: string }) =>
  scope.selectFrom('users').selectAll().where('id', '=', p.id),
);

export async function findUserRow(scope: TenantScope, by: { id: string } | { key: number }) {
  if ('id' in by) return (await scope.run(USER_BY_ID, by))[0];
  return scope.selectFrom('users').selectAll().where('key', '=', by.key).executeTakeFirst();
}

export function findUserRowsByIds(scope: TenantScope, ids: string[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return scope.selectFrom('users').selectAll().where('id', 'in', ids).execute();
}

/** The fields of a user its log entries show (a password change shows as `password` changed, never its hash). */
const LOGGED_USER_COLUMNS = ['username', 'display_name', 'email', 'role', 'is_active'];

export async function updateUserRow(scope: TenantScope, current: UserRow, changes: Updateable<UsersTable>) {
  const updated = await scope
    .updateTable('users')
    .set({ ...changes, version: current.version + 1 })
    .where('key', '=', current.key)
    .where('version', '=', current.version)
    .returningAll()
    .executeTakeFirst();
  if (updated)
    scope.record({
      type: 'user.updated',
      resourceId: updated.id,
      version: updated.version,
      changes: {
        ...fieldChanges(current, updated, LOGGED_USER_COLUMNS),
        ...(changes.password_hash !== undefined && { password: { old: null, new: null } }),
      },
    });
  return updated;
}

export async function listUserRows(
  scope: TenantScope,
  limit: number,
  afterKey?: number,
): Promise<KeysetPage<UserRow>> {
  let query = scope.selectFrom('users').selectAll();
  if (afterKey !== undefined) query = query.where('key', '>', afterKey);
  const rows = await query
    .orderBy('key')
    .limit(limit + 1)
    .execute();
  return pageOf(rows, limit, (row) => row.key);
}

export async function countOwners(scope: TenantScope): Promise<number> {
  const row = await scope
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'owner')
    .where('is_active', '=', 1)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export function firstActiveOwner(scope: TenantScope) {
  return scope
    .selectFrom('users')
    .selectAll()
    .where('role', '=', 'owner')
    .where('is_active', '=', 1)
    .orderBy('key')
    .executeTakeFirst();
}
