import type { Selectable, Updateable } from 'kysely';
import type { MemberJobsTable } from '../schema.js';
import type { LeasedTable } from '../leases.js';
import type { TenantScope } from '../scope.js';

export type MemberJobRow = Selectable<MemberJobsTable>;

/** Member jobs under leases: a running job whose process is gone is taken over from its cursor. */
export const MEMBER_JOB_LEASES: LeasedTable = { table: 'member_jobs', id: 'id', claimable: ['running'] };

export async function insertMemberJob(scope: TenantScope, row: Omit<MemberJobRow, 'organisation_id'>) {
  await scope.insertInto('member_jobs', row).execute();
}

export function findMemberJob(scope: TenantScope, id: string) {
  return scope.selectFrom('member_jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Records a job's progress only while `leaseOwner` runs it; false when the job is no longer its own. */
export async function recordMemberJob(
  scope: TenantScope,
  id: string,
  changes: Updateable<MemberJobsTable>,
  leaseOwner: string,
): Promise<boolean> {
  const result = await scope
    .updateTable('member_jobs')
    .set(changes)
    .where('id', '=', id)
    .where('status', '=', 'running')
    .where('lease_owner', '=', leaseOwner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
