import type { Selectable, Updateable } from 'kysely';
import type { MemberJobsTable } from '../schema.js';
import type { TenantScope } from '../scope.js';

export type MemberJobRow = Selectable<MemberJobsTable>;

export async function insertMemberJob(scope: TenantScope, row: Omit<MemberJobRow, 'organisation_id'>) {
  await scope.insertInto('member_jobs', row).execute();
}

export function findMemberJob(scope: TenantScope, id: string) {
  return scope.selectFrom('member_jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateMemberJob(
  scope: TenantScope,
  id: string,
  changes: Updateable<MemberJobsTable>,
): Promise<void> {
  await scope.updateTable('member_jobs').set(changes).where('id', '=', id).execute();
}
