import * as contacts from '../../db/repositories/contacts.js';
import * as imports from '../../db/repositories/imports.js';
import * as memberships from '../../db/repositories/memberships.js';
import type { ImportChangeRow, ImportJobRow } from '../../db/repositories/imports.js';
import type { TenantScope } from '../../db/scope.js';
import type { Store } from '../../db/store.js';
import type { ChangeAuthor } from '../../domain/changes.js';

export interface RollbackReport {
  rolled_back: number;
  /** Every change that was left in place, and why: nothing is skipped silently. */
  not_rolled_back: { row: number; contact_id: string | null; reason: string }[];
}

const ROWS_PER_TRANSACTION = 1000;

/** Undoes one logged change; returns why it could not, or undefined when it did. */
async function undo(scope: TenantScope, change: ImportChangeRow): Promise<string | undefined> {
  if (change.kind === 'membership') {
    await memberships.removeMembers(scope, change.group_key!, [change.contact_key]);
    return undefined;
  }
  const row = await contacts.findContactRow(scope, { key: change.contact_key }, true);
  if (!row) return 'the contact has been deleted since';
  if (row.version !== change.after_version || row.deleted_at !== null)
    return 'the contact has changed since the import';
  if (change.kind === 'created') {
    await contacts.deleteContactRow(scope, row);
    return undefined;
  }
  await contacts.updateContactRow(scope, row, {
    ...JSON.parse(change.before!),
    updated_at: Date.now(),
  });
  return undefined;
}

/** Walks the undo log from the newest row back, a transaction per thousand rows. */
export async function rollbackImport(
  store: Store,
  author: ChangeAuthor,
  job: ImportJobRow,
): Promise<RollbackReport> {
  const report: RollbackReport = { rolled_back: 0, not_rolled_back: [] };
  for (let to = job.last_row; to > 0; to -= ROWS_PER_TRANSACTION) {
    await store.transaction(author, async (scope) => {
      const changes = await imports.importChangesBetween(
        scope,
        job.key,
        Math.max(0, to - ROWS_PER_TRANSACTION),
        to,
      );
      // Memberships first, so a created contact's own memberships are gone before the contact is.
      changes.sort((a, b) => Number(a.kind !== 'membership') - Number(b.kind !== 'membership'));
      for (const change of changes) {
        const reason = await undo(scope, change);
        if (!reason) {
          if (change.kind !== 'membership') report.rolled_back += 1;
          continue;
        }
        const row = await contacts.findContactRow(scope, { key: change.contact_key }, true);
        report.not_rolled_back.push({ row: change.row_number, contact_id: row?.id ?? null, reason });
      }
    });
  }
  await store.transaction(author, (scope) => imports.deleteImportChanges(scope, job.key));
  return report;
}
