import type { Selectable, Updateable } from 'kysely';
import type { ImportChangesTable, ImportJobsTable, ImportWarningsTable } from '../schema.js';
import type { LeasedTable } from '../leases.js';
import type { TenantScope } from '../scope.js';

export type ImportJobRow = Selectable<ImportJobsTable>;
export type ImportChangeRow = Selectable<ImportChangesTable>;
export type ImportWarning = Omit<Selectable<ImportWarningsTable>, 'organisation_id' | 'job_key'>;

/** Import jobs under leases: a queued or running job whose process is gone is taken over. */
export const IMPORT_JOB_LEASES: LeasedTable = {
  table: 'import_jobs',
  id: 'key',
  claimable: ['queued', 'running'],
};

export function insertImportJob(scope: TenantScope, row: Omit<ImportJobRow, 'key' | 'organisation_id'>) {
  return scope.insertInto('import_jobs', row).returningAll().executeTakeFirstOrThrow();
}

export function findImportJob(scope: TenantScope, id: string) {
  return scope.selectFrom('import_jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateImportJob(
  scope: TenantScope,
  key: number,
  changes: Updateable<ImportJobsTable>,
): Promise<void> {
  await scope.updateTable('import_jobs').set(changes).where('key', '=', key).execute();
}

/**
 * Ends a job (completed, cancelled, rolled back) and logs its one summarising entry: the event
 * webhooks get for the whole import, whose own changes to contacts are in the feed only. With a
 * guard, only a job still in one of `from` statuses and (given an owner) under that process's
 * lease ends; returns whether it did.
 */
export async function finishImportJob(
  scope: TenantScope,
  key: number,
  type: 'import.completed' | 'import.cancelled' | 'import.rolled_back',
  changes: Updateable<ImportJobsTable>,
  guard: { from?: string[]; leaseOwner?: string } = {},
): Promise<boolean> {
  let update = scope.updateTable('import_jobs').set(changes).where('key', '=', key);
  if (guard.from) update = update.where('status', 'in', guard.from);
  if (guard.leaseOwner !== undefined) update = update.where('lease_owner', '=', guard.leaseOwner);
  const row = await update.returningAll().executeTakeFirst();
  if (!row) return false;
  const { status, rows_read, created, updated, unchanged, skipped, skipped_in_file, failed } = row;
  const summary: Record<string, unknown> = {
    status,
    rows_read,
    created,
    updated,
    unchanged,
    skipped,
    skipped_in_file,
    failed,
  };
  if (row.rollback_report) {
    const report = JSON.parse(row.rollback_report) as { rolled_back: number; not_rolled_back: unknown[] };
    summary.rolled_back = report.rolled_back;
    summary.not_rolled_back = report.not_rolled_back.length;
  }
  scope.record({ type, resourceId: row.id, summary });
  return true;
}

/**
 * Moves a job from one status to another only if it is still in the first, and (given an owner)
 * only while that process holds its lease: a guard against two runners.
 */
export async function transitionImportJob(
  scope: TenantScope,
  key: number,
  from: string[],
  changes: Updateable<ImportJobsTable>,
  leaseOwner?: string,
): Promise<boolean> {
  let update = scope
    .updateTable('import_jobs')
    .set(changes)
    .where('key', '=', key)
    .where('status', 'in', from);
  if (leaseOwner !== undefined) update = update.where('lease_owner', '=', leaseOwner);
  const result = await update.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function insertImportErrors(
  scope: TenantScope,
  rows: { job_key: number; row_number: number; reason: string; raw: string }[],
): Promise<void> {
  // A row refused for holding a NUL is kept as read, less the NUL, which PostgreSQL cannot store.
  const storable = rows.map((row) => ({
    ...row,
    reason: row.reason.replaceAll('\0', '\uFFFD'),
    raw: row.raw.replaceAll('\0', '\uFFFD'),
  }));
  for (let i = 0; i < storable.length; i += 500)
    await scope.insertInto('import_errors', storable.slice(i, i + 500)).execute();
}

/** The longest value a warning keeps: enough to recognise it (a long note is left out whole, not stored twice). */
const WARNING_VALUE_LENGTH = 1000;

export async function insertImportWarnings(
  scope: TenantScope,
  rows: (ImportWarning & { job_key: number })[],
): Promise<void> {
  const storable = rows.map((row) => ({
    ...row,
    value: (row.value.length > WARNING_VALUE_LENGTH
      ? `${row.value.slice(0, WARNING_VALUE_LENGTH)}…`
      : row.value
    ).replaceAll('\0', '\uFFFD'),
  }));
  for (let i = 0; i < storable.length; i += 500)
    await scope
      .insertInto('import_warnings', storable.slice(i, i + 500))
      // A resumed import reads its file again, and tells the same file-level warning again.
      .onConflict((oc) => oc.doNothing())
      .execute();
}

/** A job's warnings counted by kind, for its report. */
export async function importWarningCounts(
  scope: TenantScope,
  jobKey: number,
): Promise<Record<string, number>> {
  const rows = await scope
    .selectFrom('import_warnings')
    .select(['kind', (eb) => eb.fn.countAll<number>().as('count')])
    .where('job_key', '=', jobKey)
    .groupBy('kind')
    .orderBy('kind')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.kind, Number(r.count)]));
}

export function importWarningsPage(
  scope: TenantScope,
  jobKey: number,
  after: { row: number; seq: number },
  limit: number,
) {
  return scope
    .selectFrom('import_warnings')
    .select(['row_number', 'seq', 'kind', 'field', 'value', 'reason'])
    .where('job_key', '=', jobKey)
    .where((eb) =>
      eb.or([
        eb('row_number', '>', after.row),
        eb.and([eb('row_number', '=', after.row), eb('seq', '>', after.seq)]),
      ]),
    )
    .orderBy('row_number')
    .orderBy('seq')
    .limit(limit)
    .execute();
}

export function importErrorsPage(scope: TenantScope, jobKey: number, afterRow: number, limit: number) {
  return scope
    .selectFrom('import_errors')
    .select(['row_number', 'reason', 'raw'])
    .where('job_key', '=', jobKey)
    .where('row_number', '>', afterRow)
    .orderBy('row_number')
    .limit(limit)
    .execute();
}

/** The undo log's columns with their PostgreSQL types, for inserts of many rows as arrays. */
const CHANGE_TYPES = [
  ['job_key', 'bigint'],
  ['row_number', 'bigint'],
  ['kind', 'text'],
  ['contact_key', 'bigint'],
  ['group_key', 'bigint'],
  ['before', 'text'],
  ['after_version', 'integer'],
] as const;

export async function insertImportChanges(
  scope: TenantScope,
  rows: Omit<ImportChangeRow, 'organisation_id'>[],
): Promise<void> {
  // A batch's log: a row or two for each row of the file.
  await scope.insertMany('import_changes', CHANGE_TYPES, rows);
}

/** The undo log of rows (from, to], newest first. */
export function importChangesBetween(scope: TenantScope, jobKey: number, fromRow: number, toRow: number) {
  return scope
    .selectFrom('import_changes')
    .selectAll()
    .where('job_key', '=', jobKey)
    .where('row_number', '>', fromRow)
    .where('row_number', '<=', toRow)
    .orderBy('row_number', 'desc')
    .execute();
}

/** Which of these contacts this import already created or changed: a later row matching one is a duplicate in the file. */
export async function contactsTouchedByImport(
  scope: TenantScope,
  jobKey: number,
  contactKeys: number[],
): Promise<Set<number>> {
  if (contactKeys.length === 0) return new Set();
  const rows = await scope
    .selectFrom('import_changes')
    .select('contact_key')
    .where('job_key', '=', jobKey)
    .where('contact_key', 'in', contactKeys)
    .where('kind', 'in', ['created', 'updated'])
    .execute();
  return new Set(rows.map((r) => r.contact_key));
}

export async function deleteImportChanges(scope: TenantScope, jobKey: number): Promise<void> {
  await scope.deleteFrom('import_changes').where('job_key', '=', jobKey).execute();
}

type Counter = 'rows_read' | 'created' | 'updated' | 'unchanged' | 'skipped' | 'skipped_in_file' | 'failed';

/**
 * Adds a committed batch's counts to its job, in the batch's own transaction: the job never
 * counts what did not commit. Only while `leaseOwner` runs the job; false (and the batch must
 * roll back) when another process has taken it over or it was cancelled.
 */
export async function addImportProgress(
  scope: TenantScope,
  key: number,
  progress: {
    counts: Record<Counter, number>;
    lastRow: number;
    bytesRead: number;
    now: number;
    leaseOwner: string;
  },
): Promise<boolean> {
  const { counts, lastRow, bytesRead, now } = progress;
  const result = await scope
    .updateTable('import_jobs')
    .set((eb) => ({
      rows_read: eb('rows_read', '+', counts.rows_read),
      created: eb('created', '+', counts.created),
      updated: eb('updated', '+', counts.updated),
      unchanged: eb('unchanged', '+', counts.unchanged),
      skipped: eb('skipped', '+', counts.skipped),
      skipped_in_file: eb('skipped_in_file', '+', counts.skipped_in_file),
      failed: eb('failed', '+', counts.failed),
      last_row: lastRow,
      bytes_read: bytesRead,
      updated_at: now,
    }))
    .where('key', '=', key)
    .where('status', '=', 'running')
    .where('lease_owner', '=', progress.leaseOwner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export function findImportJobByKey(scope: TenantScope, key: number) {
  return scope.selectFrom('import_jobs').selectAll().where('key', '=', key).executeTakeFirst();
}
