import { sql } from 'kysely';
import type { TenantScope } from '../scope.js';
import { chunks, inChunks } from './chunks.js';

/*
 * A group's member_count is the number of its memberships whose contact is live. This module
 * keeps it, beside every write that changes it: adding and removing members, and a contact
 * becoming deleted or live again (liveChanged, which the contacts repository calls from the one
 * update that sets deleted_at). No caller adjusts it.
 */

/** Adds `delta` to a group's member count; returns the group's id. */
async function addToCount(scope: TenantScope, groupKey: number, delta: number): Promise<string> {
  const row = await scope
    .updateTable('groups')
    .set((eb) => ({ member_count: eb('member_count', '+', delta) }))
    .where('key', '=', groupKey)
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Logs a membership change of a group: one entry naming every contact, however many. */
async function recordMembers(
  scope: TenantScope,
  type: 'group.members_added' | 'group.members_removed',
  groupId: string,
  contactKeys: number[],
) {
  // In key order, as addMembers reads them: otherwise SQLite answered a long list from the
  // covering (organisation, id) index, scanning the whole organisation (57 ms for 1,000 keys
  // among 100,000 contacts, 3 ms by key), once a batch: an import grew with the square of its size.
  const contacts = await inChunks(contactKeys, (chunk) =>
    scope.selectFrom('contacts').select('id').where('key', 'in', chunk).orderBy('key').execute(),
  );
  scope.record({ type, resourceId: groupId, contactIds: contacts.map((c) => c.id) });
}

/**
 * Adds contacts of the organisation to a group, ignoring those already in it, and counts them;
 * returns the keys actually added. The only writer of memberships: each is selected from its
 * contact, which gives it the contact's sort_name (migration 0006) and leaves out a key of no
 * contact here. Callers pass live contacts.
 */
export async function addMembers(
  scope: TenantScope,
  groupKey: number,
  contactKeys: number[],
  addedBy: string | null,
  now: number,
) {
  const added: number[] = [];
  for (const batch of chunks(contactKeys)) {
    // Typed, because PostgreSQL reads a bare parameter in a select list as text.
    const contacts = scope
      .selectFrom('contacts')
      .select([
        sql<number>`cast(${groupKey} as bigint)`.as('group_key'),
        'contacts.key as contact_key',
        sql<number>`cast(${now} as bigint)`.as('added_at'),
        sql<string | null>`cast(${addedBy} as text)`.as('added_by'),
        'contacts.sort_name',
      ])
      .where('contacts.key', 'in', batch)
      // SQLite only, a condition on a column the sort index (organisation, sort_name, key) does
      // not hold: holding the two columns selected, it was the index SQLite scanned whole for a
      // long key list on a database with no statistics yet (a new database; the benchmark's
      // dataset build took minutes instead of 90 s), instead of probing (organisation, key).
      // Every caller passes live contacts, so it filters nothing out. On PostgreSQL, with no
      // statistics either, it made the partial index on live phones look selective (274 ms a
      // 1,000-key batch against 29 without it).
      .$if(scope.dialect === 'sqlite', (query) => query.where('contacts.deleted_at', 'is', null))
      // In key order, which the (organisation, key) index gives: otherwise SQLite, on sampled
      // statistics (ANALYZE reads an index no further than its analysis_limit, connection.ts, so an
      // organisation looks no larger than the limit; `pragma optimize`'s 2,000 made one of
      // 1,000,000 look like 2,001), reads a long list by scanning the organisation's sort index
      // for the keys (1,000 keys: 147 ms instead of 4).
      .orderBy('contacts.key');
    const inserted = await scope
      .insertFrom('memberships', ['group_key', 'contact_key', 'added_at', 'added_by', 'sort_name'], contacts)
      .onConflict((oc) => oc.columns(['organisation_id', 'group_key', 'contact_key']).doNothing())
      .returning('contact_key')
      .execute();
    for (const row of inserted) added.push(row.contact_key);
  }
  if (added.length > 0)
    await recordMembers(scope, 'group.members_added', await addToCount(scope, groupKey, added.length), added);
  return added;
}

/**
 * Removes contacts from a group and uncounts those that were live (an import's rollback may
 * remove a member deleted since); returns the keys actually removed.
 */
export async function removeMembers(scope: TenantScope, groupKey: number, contactKeys: number[]) {
  const removed: number[] = [];
  let groupId: string | undefined;
  for (const batch of chunks(contactKeys)) {
    const deleted = await scope
      .deleteFrom('memberships')
      .where('group_key', '=', groupKey)
      .where('contact_key', 'in', batch)
      .returning('contact_key')
      .execute();
    if (deleted.length === 0) continue;
    const keys = deleted.map((row) => row.contact_key);
    removed.push(...keys);
    const live = scope
      .selectFrom('contacts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('contacts.key', 'in', keys)
      .where('contacts.deleted_at', 'is', null);
    ({ id: groupId } = await scope
      .updateTable('groups')
      .set((eb) => ({ member_count: eb('member_count', '-', live) }))
      .where('key', '=', groupKey)
      .returning('id')
      .executeTakeFirstOrThrow());
  }
  if (groupId) await recordMembers(scope, 'group.members_removed', groupId, removed);
  return removed;
}

/**
 * A contact was deleted (-1) or restored (+1): each of its groups counts it accordingly. Called by
 * the contacts repository's update when deleted_at changes between null and a time.
 */
export async function liveChanged(scope: TenantScope, contactKey: number, sign: 1 | -1): Promise<void> {
  await scope
    .updateTable('groups')
    .set((eb) => ({ member_count: eb('member_count', '+', sign) }))
    .where(
      'key',
      'in',
      scope
        .selectFrom('memberships')
        .select('memberships.group_key')
        .where('memberships.contact_key', '=', contactKey),
    )
    .execute();
}

/** The memberships of these contacts, oldest first for each contact. */
export async function groupKeysOfContacts(scope: TenantScope, contactKeys: number[]) {
  // Ordered by contact: without it SQLite, its statistics taken while the table was small, answered
  // 1,000 keys by scanning every membership (40-75 ms among 188,000; 2 ms by the contact index).
  const query = scope
    .selectFrom('memberships')
    .select(['memberships.contact_key', 'memberships.group_key', 'memberships.added_at'])
    .orderBy('memberships.contact_key');
  let low = Infinity;
  let high = -Infinity;
  for (const key of contactKeys) {
    if (key < low) low = key;
    if (key > high) high = key;
  }
  let rows;
  // Keys close together (an export's chunk) are one range of the contact index, not lists of a
  // thousand bound values: on PostgreSQL each list cost 11 ms to parse and plan.
  if (contactKeys.length > 1 && high - low < 2 * contactKeys.length) {
    const wanted = new Set(contactKeys);
    rows = (
      await query
        .where('memberships.contact_key', '>=', low)
        .where('memberships.contact_key', '<=', high)
        .execute()
    ).filter((row) => wanted.has(row.contact_key));
  } else
    rows = await inChunks(contactKeys, (chunk) =>
      query.where('memberships.contact_key', 'in', chunk).execute(),
    );
  return rows.sort((a, b) => a.added_at - b.added_at || a.group_key - b.group_key);
}

/** Those of these groups a contact joined at `addedAt` and is still in. */
export async function groupsJoinedAt(
  scope: TenantScope,
  contactKey: number,
  groupKeys: number[],
  addedAt: number,
): Promise<number[]> {
  const rows = await inChunks(groupKeys, (chunk) =>
    scope
      .selectFrom('memberships')
      .select('group_key')
      .where('contact_key', '=', contactKey)
      .where('group_key', 'in', chunk)
      .where('added_at', '=', addedAt)
      .execute(),
  );
  return rows.map((r) => r.group_key);
}

/** Before a contact is deleted for good: the contacts repository uncounts it first if it was live. */
export async function deleteMembershipsOfContact(scope: TenantScope, contactKey: number): Promise<void> {
  await scope.deleteFrom('memberships').where('contact_key', '=', contactKey).execute();
}

/** With its group deleted: a deleted group's count stays as it was, as its record shows it. */
export async function deleteMembershipsOfGroup(scope: TenantScope, groupKey: number): Promise<void> {
  await scope.deleteFrom('memberships').where('group_key', '=', groupKey).execute();
}

/**
 * Member keys of several groups in one query, for pages that embed their groups' members.
 * Members added by one write share added_at, so the contact key keeps their order stable.
 */
export function memberKeysOfGroups(scope: TenantScope, groupKeys: number[]) {
  if (groupKeys.length === 0) return Promise.resolve([]);
  return scope
    .selectFrom('memberships')
    .select(['memberships.group_key', 'memberships.contact_key'])
    .where('memberships.group_key', 'in', groupKeys)
    .orderBy('memberships.added_at')
    .orderBy('memberships.contact_key')
    .execute();
}
