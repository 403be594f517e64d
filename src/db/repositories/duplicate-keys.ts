import {
  DUPLICATE_KINDS,
  duplicateKeys,
  type DuplicateKey,
  type DuplicateKind,
} from '../../domain/duplicates.js';
import type { ContactsTable } from '../schema.js';
import type { TenantScope } from '../scope.js';
import { chunks, inChunks } from './chunks.js';
import { emailsOf, numbersOf } from './contact-codec.js';

/** The columns the duplicate rules read: a write that changes none of them leaves the keys as they are. */
export const KEYED_COLUMNS = [
  'display_name',
  'first_name',
  'middle_name',
  'last_name',
  'company',
  'phone',
  'phone_raw',
  'phone_valid',
  'phones',
  'email',
  'emails',
  'external_ids',
  'deleted_at',
] as const satisfies readonly (keyof ContactsTable)[];

export type KeyedContact = Pick<ContactsTable, (typeof KEYED_COLUMNS)[number]> & { key: number };

export interface KeyRow extends DuplicateKey {
  contact_key: number;
}

/** A stored contact's keys: none for a deleted one, which is no one's duplicate. */
export function keyRowsOf(row: KeyedContact): KeyRow[] {
  if (row.deleted_at !== null) return [];
  return duplicateKeys({
    ...row,
    // Every number and address: a second number two contacts share makes them candidates too.
    phones: numbersOf(row),
    emails: emailsOf(row).map((e) => e.address),
    external_ids: JSON.parse(row.external_ids),
  }).map((k) => ({ ...k, contact_key: row.key }));
}

const KEY_TYPES = [
  ['kind', 'text'],
  ['value', 'text'],
  ['contact_key', 'bigint'],
] as const;

const id = (k: DuplicateKey) => `${k.kind}\n${k.value}`;

/**
 * Brings the keys of these contacts, as now written, into the index, and the candidate sets of
 * every value they gained or lost up to date. Called by the contacts repository's writers (the
 * one place contacts are written), in their transaction. `fresh`: new contacts, with no keys yet.
 */
export async function syncDuplicateKeys(
  scope: TenantScope,
  contacts: KeyedContact[],
  fresh = false,
): Promise<void> {
  if (contacts.length === 0) return;
  const wanted = contacts.flatMap(keyRowsOf);
  const { added, removed } = fresh
    ? { added: wanted, removed: [] }
    : difference(
        await keysOfContacts(
          scope,
          contacts.map((c) => c.key),
        ),
        wanted,
      );
  for (const [kind, rows] of byKind(removed))
    for (const contactKey of new Set(rows.map((r) => r.contact_key)))
      await scope
        .deleteFrom('duplicate_keys')
        .where('contact_key', '=', contactKey)
        .where('kind', '=', kind)
        .where(
          'value',
          'in',
          rows.filter((r) => r.contact_key === contactKey).map((r) => r.value),
        )
        .execute();
  await scope.insertMany('duplicate_keys', KEY_TYPES, added);
  await refreshSets(scope, added, removed);
}

/** What a contact's stored keys lack of those wanted, and what they hold that is no longer wanted. */
function difference(stored: KeyRow[], wanted: KeyRow[]): { added: KeyRow[]; removed: KeyRow[] } {
  const rowId = (k: KeyRow) => `${id(k)}\n${k.contact_key}`;
  const storedIds = new Set(stored.map(rowId));
  const wantedIds = new Set(wanted.map(rowId));
  return {
    added: wanted.filter((k) => !storedIds.has(rowId(k))),
    removed: stored.filter((k) => !wantedIds.has(rowId(k))),
  };
}

function byKind<T extends DuplicateKey>(keys: T[]): Map<DuplicateKind, T[]> {
  const map = new Map<DuplicateKind, T[]>();
  for (const k of keys) {
    const list = map.get(k.kind);
    if (list) list.push(k);
    else map.set(k.kind, [k]);
  }
  return map;
}

/**
 * A value is a candidate set while two or more contacts hold it: a value a contact gained may
 * have become one, a value it lost may have stopped being one; no other can have changed.
 */
async function refreshSets(scope: TenantScope, gained: DuplicateKey[], lost: DuplicateKey[]): Promise<void> {
  const shared = (kind: DuplicateKind, values: string[]) =>
    scope
      .selectFrom('duplicate_keys')
      .select(['duplicate_keys.kind', 'duplicate_keys.value'])
      .where('duplicate_keys.kind', '=', kind)
      .where('duplicate_keys.value', 'in', values)
      .groupBy(['duplicate_keys.kind', 'duplicate_keys.value'])
      .having((eb) => eb.fn.countAll(), '>', 1);
  for (const [kind, values] of valuesByKind(gained))
    for (const chunk of chunks(values)) {
      // A value already a set stays one when it gains a holder. Leaving those out keeps the count
      // below to the values that had at most one holder before: counting every holder of a
      // value thousands share (one company, one mail domain) made each batch of an import read
      // them all again, so its cost grew with the square of its size.
      const sets = await scope
        .selectFrom('duplicate_sets')
        .select('value')
        .where('kind', '=', kind)
        .where('value', 'in', chunk)
        .execute();
      const known = new Set(sets.map((s) => s.value));
      const open = known.size === 0 ? chunk : chunk.filter((v) => !known.has(v));
      if (open.length === 0) continue;
      await scope
        .insertFrom('duplicate_sets', ['kind', 'value'], shared(kind, open))
        .onConflict((oc) => oc.columns(['organisation_id', 'kind', 'value']).doNothing())
        .execute();
    }
  for (const [kind, values] of valuesByKind(lost))
    for (const chunk of chunks(values))
      await scope
        .deleteFrom('duplicate_sets')
        .where('kind', '=', kind)
        .where('value', 'in', chunk)
        .where('value', 'not in', shared(kind, chunk).clearSelect().select('duplicate_keys.value'))
        .execute();
}

function valuesByKind(keys: DuplicateKey[]): Map<DuplicateKind, string[]> {
  const map = new Map<DuplicateKind, Set<string>>();
  for (const k of keys) {
    const values = map.get(k.kind);
    if (values) values.add(k.value);
    else map.set(k.kind, new Set([k.value]));
  }
  return new Map([...map].map(([kind, values]) => [kind, [...values]]));
}

/**
 * A page of candidate sets, kind by kind (in code point order), each kind's values in the
 * database's order, after `after`. One range of the key per kind: a row-value comparison
 * `(kind, value) > (?, ?)` made SQLite walk the organisation's sets from the start (226 ms for
 * a page 200 pages in among 200,000 contacts).
 */
export async function duplicateSetsPage(
  scope: TenantScope,
  after: DuplicateKey | undefined,
  limit: number,
): Promise<DuplicateKey[]> {
  const page: DuplicateKey[] = [];
  for (const kind of [...DUPLICATE_KINDS].sort()) {
    if (after && kind < after.kind) continue;
    let query = scope.selectFrom('duplicate_sets').select(['kind', 'value']).where('kind', '=', kind);
    if (after && kind === after.kind) query = query.where('value', '>', after.value);
    page.push(
      ...((await query
        .orderBy('value')
        .limit(limit - page.length)
        .execute()) as DuplicateKey[]),
    );
    if (page.length >= limit) break;
  }
  return page;
}

/** The contacts holding a key value, in key order, at most `limit`. */
export async function contactsWithKey(
  scope: TenantScope,
  key: DuplicateKey,
  limit: number,
): Promise<number[]> {
  const rows = await scope
    .selectFrom('duplicate_keys')
    .select('contact_key')
    .where('kind', '=', key.kind)
    .where('value', '=', key.value)
    .orderBy('contact_key')
    .limit(limit)
    .execute();
  return rows.map((r) => r.contact_key);
}

/** How many contacts hold each of these key values, keyed by `${kind}\n${value}`. */
export async function countWithKeys(scope: TenantScope, keys: DuplicateKey[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [kind, values] of valuesByKind(keys))
    for (const chunk of chunks(values)) {
      const rows = await scope
        .selectFrom('duplicate_keys')
        .select(['value', (eb) => eb.fn.countAll<number>().as('n')])
        .where('kind', '=', kind)
        .where('value', 'in', chunk)
        .groupBy('value')
        .execute();
      for (const row of rows) counts.set(id({ kind, value: row.value }), Number(row.n));
    }
  return counts;
}

/** Every key of these contacts. */
export function keysOfContacts(scope: TenantScope, contactKeys: number[]): Promise<KeyRow[]> {
  return inChunks(
    contactKeys,
    (chunk) =>
      scope
        .selectFrom('duplicate_keys')
        .select(['kind', 'value', 'contact_key'])
        .where('contact_key', 'in', chunk)
        .execute() as Promise<KeyRow[]>,
  );
}
