import type { Selectable } from 'kysely';
import type { MergesTable } from '../schema.js';
import type { TenantScope } from '../scope.js';

export type MergeRow = Selectable<MergesTable>;

export async function insertMerge(
  scope: TenantScope,
  row: Omit<MergeRow, 'key' | 'organisation_id'>,
): Promise<MergeRow> {
  return scope.insertInto('merges', row).returningAll().executeTakeFirstOrThrow();
}

export function findMerge(scope: TenantScope, id: string) {
  return scope.selectFrom('merges').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Marks a merge undone only if it is not already: of two concurrent undos one gets past this. */
export async function markMergeUndone(
  scope: TenantScope,
  key: number,
  undoneAt: number,
  report: string,
): Promise<boolean> {
  const result = await scope
    .updateTable('merges')
    .set({ undone_at: undoneAt, undo_report: report })
    .where('key', '=', key)
    .where('undone_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
