import type { Selectable } from 'kysely';
import {
  resourceTypeOf,
  type Change,
  type ChangeAuthor,
  type ChangeType,
  type CredentialKind,
  type ResourceType,
  type Surface,
} from '../../domain/changes.js';
import type { PendingChange } from '../change-log.js';
import { prepare } from '../prepared.js';
import type { ChangesTable } from '../schema.js';
import type { TenantScope } from '../scope.js';

export type ChangeRow = Omit<Selectable<ChangesTable>, 'organisation_id'>;

/** The organisation's counter moved on by `count`: returns the last number taken. Held locked until commit. */
const TAKE = prepare((scope: TenantScope, p: { count: number }) =>
  scope
    .insertInto('change_counters', { seq: p.count })
    .onConflict((oc) =>
      oc
        .column('organisation_id')
        .doUpdateSet((eb) => ({ seq: eb('change_counters.seq', '+', eb.ref('excluded.seq')) })),
    )
    .returning('seq'),
);

export async function takeSequence(scope: TenantScope, count: number): Promise<number> {
  const [row] = await scope.run(TAKE, { count });
  return Number(row!.seq);
}

const INSERT_ONE = prepare((scope: TenantScope, row: ChangeRow) =>
  scope.insertInto('changes', {
    seq: row.seq,
    type: row.type,
    resource_type: row.resource_type,
    resource_id: row.resource_id,
    version: row.version,
    user_id: row.user_id,
    credential_kind: row.credential_kind,
    credential_id: row.credential_id,
    surface: row.surface,
    occurred_at: row.occurred_at,
    data: row.data,
  }),
);

const COLUMN_TYPES = [
  ['seq', 'bigint'],
  ['type', 'text'],
  ['resource_type', 'text'],
  ['resource_id', 'text'],
  ['version', 'integer'],
  ['user_id', 'text'],
  ['credential_kind', 'text'],
  ['credential_id', 'text'],
  ['surface', 'text'],
  ['occurred_at', 'bigint'],
  ['data', 'text'],
] as const;

/** Inserts the entries numbered from `first`, in as few statements as the database allows. */
export async function insertChanges(
  scope: TenantScope,
  author: ChangeAuthor,
  entries: PendingChange[],
  first: number,
): Promise<ChangeRow[]> {
  const rows = entries.map((entry, i): ChangeRow => {
    const data =
      entry.changes || entry.contactIds || entry.summary
        ? JSON.stringify({ changes: entry.changes, contact_ids: entry.contactIds, summary: entry.summary })
        : null;
    return {
      seq: first + i,
      type: entry.type,
      resource_type: resourceTypeOf(entry.type),
      resource_id: entry.resourceId,
      version: entry.version ?? null,
      user_id: author.userId,
      credential_kind: author.credential,
      credential_id: author.credentialId ?? null,
      surface: author.surface,
      occurred_at: entry.at,
      data,
    };
  });
  if (rows.length === 1) await scope.run(INSERT_ONE, rows[0]!);
  else await scope.insertMany('changes', COLUMN_TYPES, rows);
  return rows;
}

/** An erased contact's earlier entries lose their values; the tombstones (type, id, place) stay. */
export async function eraseLogged(scope: TenantScope, resourceIds: string[]): Promise<void> {
  await scope
    .updateTable('changes')
    .set({ data: null })
    .where('resource_id', 'in', resourceIds)
    .where('data', 'is not', null)
    .execute();
}

/** The feed: entries after `after` up to `upTo`, oldest first, optionally of some types only. */
export function changesBetween(
  scope: TenantScope,
  { after, upTo, limit, types }: { after: number; upTo: number; limit: number; types?: string[] },
) {
  let query = scope
    .selectFrom('changes')
    .selectAll()
    .where('seq', '>', after)
    .where('seq', '<=', upTo)
    .orderBy('seq')
    .limit(limit + 1);
  if (types && types.length > 0) query = query.where('type', 'in', types);
  return query.execute();
}

/** Entries by number (webhook deliveries are built from them when sent). */
export function changesBySeq(scope: TenantScope, seqs: number[]) {
  if (seqs.length === 0) return Promise.resolve([]);
  return scope.selectFrom('changes').selectAll().where('seq', 'in', seqs).execute();
}

/** One record's entries, newest first, before `before` (a seq) when given. */
export function historyOf(
  scope: TenantScope,
  resourceType: ResourceType,
  resourceId: string,
  limit: number,
  before?: number,
) {
  let query = scope
    .selectFrom('changes')
    .selectAll()
    .where('resource_id', '=', resourceId)
    .where('resource_type', '=', resourceType)
    .orderBy('seq', 'desc')
    .limit(limit + 1);
  if (before !== undefined) query = query.where('seq', '<', before);
  return query.execute();
}

/** The organisation's counter: the last number taken, and through which number the log was pruned. */
export async function counterOf(scope: TenantScope): Promise<{ seq: number; pruned_through: number }> {
  const row = await scope.selectFrom('change_counters').select(['seq', 'pruned_through']).executeTakeFirst();
  return { seq: Number(row?.seq ?? 0), pruned_through: Number(row?.pruned_through ?? 0) };
}

/**
 * Deletes entries older than `cutoff` (epoch ms) and remembers through which number, so that a
 * cursor from before it is told to start again (410). Numbers follow time, so the old entries
 * are a prefix of the key: the first entry to keep is found by walking that prefix, which is
 * what goes anyway. Returns how many went.
 */
export async function pruneChanges(scope: TenantScope, cutoff: number): Promise<number> {
  const keep = await scope
    .selectFrom('changes')
    .select('seq')
    .where('occurred_at', '>=', cutoff)
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
  const counter = await counterOf(scope);
  const through = keep ? Number(keep.seq) - 1 : counter.seq;
  if (through <= counter.pruned_through) return 0;
  const { numDeletedRows } = await scope.deleteFrom('changes').where('seq', '<=', through).executeTakeFirst();
  await scope
    .updateTable('change_counters')
    .set({ pruned_through: through })
    .where('pruned_through', '<', through)
    .execute();
  return Number(numDeletedRows);
}

/** An entry as the API shows it. */
export function toChange(row: ChangeRow): Change {
  const data =
    row.data === null ? {} : (JSON.parse(row.data) as Pick<Change, 'changes' | 'contact_ids' | 'summary'>);
  return {
    seq: Number(row.seq),
    type: row.type as ChangeType,
    resource: { type: resourceTypeOf(row.type as ChangeType), id: row.resource_id },
    version: row.version,
    actor: {
      user_id: row.user_id,
      credential: { kind: row.credential_kind as CredentialKind, id: row.credential_id },
    },
    surface: row.surface as Surface,
    occurred_at: new Date(Number(row.occurred_at)).toISOString(),
    ...(data.changes && { changes: data.changes }),
    ...(data.contact_ids && { contact_ids: data.contact_ids }),
    ...(data.summary && { summary: data.summary }),
  };
}
