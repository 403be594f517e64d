import { sql, type Selectable, type Updateable } from 'kysely';
import { iso, isoOrNull, type Group } from '../../domain/records.js';
import type { GroupsTable } from '../schema.js';
import { fieldChanges } from '../../domain/changes.js';
import type { TenantScope } from '../scope.js';
import { pageOf, type KeysetPage } from './paging.js';

export type GroupRow = Selectable<GroupsTable>;
export type GroupChanges = Updateable<Omit<GroupsTable, 'key' | 'organisation_id' | 'id' | 'member_count'>>;
export type GroupSort = 'name' | 'created_at';

export function toGroup(row: GroupRow): Group {
  return {
    key: row.key,
    id: row.id,
    organisation_id: row.organisation_id,
    name: row.name,
    description: row.description,
    translations: JSON.parse(row.translations),
    is_active: row.is_active === 1,
    is_default: row.is_default === 1,
    thumbnail_url: row.thumbnail_url,
    external_ids: JSON.parse(row.external_ids),
    member_count: row.member_count,
    created_by: row.created_by,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    deleted_at: isoOrNull(row.deleted_at),
    version: row.version,
  };
}

export async function insertGroup(
  scope: TenantScope,
  row: Omit<GroupRow, 'key' | 'organisation_id'>,
): Promise<GroupRow> {
  const inserted = await scope.insertInto('groups', row).returningAll().executeTakeFirstOrThrow();
  scope.record({ type: 'group.created', resourceId: inserted.id, version: inserted.version });
  return inserted;
}

export function findGroupRow(scope: TenantScope, by: { id: string } | { key: number }) {
  const query = scope.selectFrom('groups').selectAll().where('deleted_at', 'is', null);
  return ('id' in by ? query.where('id', '=', by.id) : query.where('key', '=', by.key)).executeTakeFirst();
}

/** Live groups of these names, oldest first. */
export function findGroupRowsByNames(scope: TenantScope, names: string[]) {
  return scope
    .selectFrom('groups')
    .selectAll()
    .where('name', 'in', names)
    .where('deleted_at', 'is', null)
    .orderBy('key')
    .execute();
}

export function findDefaultGroupRow(scope: TenantScope) {
  return scope
    .selectFrom('groups')
    .selectAll()
    .where('is_default', '=', 1)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

/** The fields of a group its log entries show, before and after. */
const LOGGED_GROUP_COLUMNS = ['name', 'description', 'is_default', 'created_at'];

/** Applies changes only if the row is still at `version`; logs the update (or the deletion). */
export async function updateGroupRow(scope: TenantScope, current: GroupRow, changes: GroupChanges) {
  const updated = await scope
    .updateTable('groups')
    .set({ ...changes, version: current.version + 1 })
    .where('key', '=', current.key)
    .where('version', '=', current.version)
    .returningAll()
    .executeTakeFirst();
  if (updated)
    scope.record({
      type: updated.deleted_at !== null && current.deleted_at === null ? 'group.deleted' : 'group.updated',
      resourceId: updated.id,
      version: updated.version,
      changes: fieldChanges(current, updated, LOGGED_GROUP_COLUMNS),
    });
  return updated;
}

export async function listGroupRows(
  scope: TenantScope,
  filter: { q?: string; createdBy?: string },
  sort: GroupSort,
  limit: number,
  after?: { value: string | number; key: number },
): Promise<KeysetPage<GroupRow>> {
  let query = scope.selectFrom('groups').selectAll().where('deleted_at', 'is', null);
  if (filter.q)
    query = query.where(
      sql<boolean>`lower(name) like ${`%${filter.q.toLowerCase().replace(/[%_\\]/g, '\\$&')}%`} escape '\\'`,
    );
  if (filter.createdBy) query = query.where('created_by', '=', filter.createdBy);
  if (after)
    query = query.where((eb) => eb(eb.refTuple(sort, 'key'), '>', eb.tuple(after.value as never, after.key)));
  const rows = await query
    .orderBy(sort)
    .orderBy('key')
    .limit(limit + 1)
    .execute();
  return pageOf(rows, limit, (row) => row[sort]);
}

/** Page-number access for the seed API that paginates the Django way; the count reads only the groups table. */
export async function groupRowsByOffset(scope: TenantScope, offset: number, limit: number) {
  const [rows, total] = await Promise.all([
    scope
      .selectFrom('groups')
      .selectAll()
      .where('deleted_at', 'is', null)
      .orderBy('created_at')
      .orderBy('key')
      .offset(offset)
      .limit(limit)
      .execute(),
    scope
      .selectFrom('groups')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('deleted_at', 'is', null)
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

export function findGroupRowsByKeys(scope: TenantScope, keys: number[]) {
  if (keys.length === 0) return Promise.resolve([]);
  return scope
    .selectFrom('groups')
    .selectAll()
    .where('key', 'in', keys)
    .where('deleted_at', 'is', null)
    .execute();
}
