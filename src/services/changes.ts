import { CHANGE_TYPES, type Change, type ChangeType } from '../domain/changes.js';
import { DomainError, invalid, notFound } from '../domain/errors.js';
import { isUuid } from '../domain/ids.js';
import { requirePermission } from '../domain/roles.js';
import * as changes from '../db/repositories/changes.js';
import { findContactRow } from '../db/repositories/contacts.js';
import { findGroupRow } from '../db/repositories/groups.js';
import { organisationIds } from '../db/repositories/instance.js';
import type { Store } from '../db/store.js';
import type { Actor } from './context.js';
import { decodeCursor, encodeCursor } from './cursor.js';

const DAY_MS = 24 * 3600 * 1000;
const FEED = 'changes';
const HISTORY = 'history';

export interface ChangesOptions {
  /** Entries older than this are pruned by the sweep; a cursor from before them gets 410. */
  retentionDays: number;
}

/** The change log as clients read it: the feed (every change, in commit order) and one record's history. */
export class ChangesService {
  constructor(
    private readonly store: Store,
    private readonly options: ChangesOptions,
  ) {}

  /**
   * Entries after the cursor, oldest first. The page ends at the counter read before it, so
   * next_cursor is never past an entry not yet visible (db/change-log.ts keeps numbers in
   * commit order); it is always given: a client polls with it for what comes next.
   */
  async feed(
    actor: Actor,
    query: { after?: string; limit: number; types?: ChangeType[] },
  ): Promise<{ items: Change[]; next_cursor: string }> {
    requirePermission(actor.role, 'read');
    for (const type of query.types ?? [])
      if (!CHANGE_TYPES.includes(type)) throw invalid('types', `${type} is not a change type`);
    const scope = this.store.scope(actor.organisationId);
    const counter = await changes.counterOf(scope);
    // No cursor: from the oldest entry kept.
    const after = query.after === undefined ? counter.pruned_through : decodeCursor(query.after, FEED).key;
    if (after < counter.pruned_through)
      throw new DomainError(
        'cursor_expired',
        `Changes after this cursor are older than the ${this.options.retentionDays}-day retention and were pruned: read the full lists again, then follow the feed from a new cursor`,
      );
    const rows = await changes.changesBetween(scope, {
      after,
      upTo: counter.seq,
      limit: query.limit,
      types: query.types,
    });
    const items = rows.slice(0, query.limit).map(changes.toChange);
    const last = rows.length > query.limit ? items[items.length - 1]!.seq : Math.max(after, counter.seq);
    return { items, next_cursor: encodeCursor({ sort: FEED, value: 0, key: last }) };
  }

  /** A contact's or group's entries, newest first; 404 for a record that never was (or is another organisation's). */
  async history(
    actor: Actor,
    kind: 'contact' | 'group',
    id: string,
    query: { cursor?: string; limit: number },
  ): Promise<{ items: Change[]; next_cursor: string | null }> {
    requirePermission(actor.role, 'read');
    const scope = this.store.scope(actor.organisationId);
    const sort = `${HISTORY}:${id}`;
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor, sort).key;
    const rows = isUuid(id) ? await changes.historyOf(scope, kind, id, query.limit, before) : [];
    if (rows.length === 0 && before === undefined && !(await this.exists(actor, kind, id)))
      throw notFound(kind === 'contact' ? 'Contact' : 'Group');
    const items = rows.slice(0, query.limit).map(changes.toChange);
    const next = rows.length > query.limit ? items[items.length - 1]!.seq : undefined;
    return { items, next_cursor: next === undefined ? null : encodeCursor({ sort, value: 0, key: next }) };
  }

  /** Prunes every organisation's log of entries past the retention; returns how many went. */
  async prune(now = Date.now()): Promise<number> {
    const cutoff = now - this.options.retentionDays * DAY_MS;
    let pruned = 0;
    for (const id of await organisationIds(this.store.db))
      pruned += await this.store.transaction(id, (scope) => changes.pruneChanges(scope, cutoff));
    return pruned;
  }

  /** Runs the retention sweep now and then every hour; returns how to stop it. */
  startSweeps(onError: (error: unknown) => void): () => void {
    const sweep = () => void this.prune().catch(onError);
    sweep();
    const timer = setInterval(sweep, 3600 * 1000);
    timer.unref();
    return () => clearInterval(timer);
  }

  private async exists(actor: Actor, kind: 'contact' | 'group', id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const scope = this.store.scope(actor.organisationId);
    return Boolean(
      kind === 'contact' ? await findContactRow(scope, { id }, true) : await findGroupRow(scope, { id }),
    );
  }
}
