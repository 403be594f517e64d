import type { ChangeAuthor, ChangeInput } from '../domain/changes.js';
import { eraseLogged, insertChanges, takeSequence } from './repositories/changes.js';
import { queueDeliveries } from './repositories/webhooks.js';
import type { TenantScope } from './scope.js';

/** A change a transaction has made, waiting for its sequence number. */
export interface PendingChange extends ChangeInput {
  organisationId: string;
  at: number;
}

/** One open transaction's log: who it writes for, and what it changed so far. */
export interface ChangeLog {
  author?: ChangeAuthor;
  pending: PendingChange[];
}

/**
 * Writes a transaction's changes as its last statements, just before it commits. The
 * organisation's counter row is taken first among them: a concurrent writer of the same
 * organisation waits on that row lock until this one commits, so sequence numbers become
 * visible in commit order and a reader following the feed never passes a number that a
 * slower transaction would fill in later. The lock is held only for these few statements.
 * Returns how many webhook deliveries were queued.
 */
export async function commitChanges(
  log: ChangeLog,
  scopeOf: (organisationId: string) => TenantScope,
): Promise<number> {
  let queued = 0;
  const author = log.author!;
  for (const [organisationId, entries] of byOrganisation(log.pending)) {
    const scope = scopeOf(organisationId);
    const erased = new Set(entries.filter((e) => e.type === 'contact.erased').map((e) => e.resourceId));
    if (erased.size > 0) {
      // "Delete my data": the contact's earlier entries keep only their type, id and place.
      for (const entry of entries)
        if (erased.has(entry.resourceId) && entry.type !== 'contact.erased') delete entry.changes;
      await eraseLogged(scope, [...erased]);
    }
    const last = await takeSequence(scope, entries.length);
    const rows = await insertChanges(scope, author, entries, last - entries.length + 1);
    queued += await queueDeliveries(scope, rows);
  }
  return queued;
}

function byOrganisation(pending: PendingChange[]): Map<string, PendingChange[]> {
  const groups = new Map<string, PendingChange[]>();
  for (const entry of pending) {
    const list = groups.get(entry.organisationId);
    if (list) list.push(entry);
    else groups.set(entry.organisationId, [entry]);
  }
  return groups;
}
