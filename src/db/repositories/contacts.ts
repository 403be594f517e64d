import { sql, type Updateable } from 'kysely';
import type { Channel, Consent, ConsentStatus } from '../../domain/contact.js';
import { queryTokens } from '../../domain/contact.js';
import type { Contact, ContactCard } from '../../domain/records.js';
import { prepare } from '../prepared.js';
import type { ContactsTable } from '../schema.js';
import type { TenantScope } from '../scope.js';
import type { ExportedContact } from '../../domain/formats/writers.js';
import { inChunks } from './chunks.js';
import { pageOf, type KeysetPage } from './paging.js';
import {
  CARD_COLUMNS,
  consentEntry,
  decodeCard,
  decodeContact,
  detailsOf,
  LOGGED_CONTACT_COLUMNS,
  loggedFields,
  NEW_CONTACT_COLUMNS,
  NEW_CONTACT_TYPES,
  type ContactRow,
  type NewContactRow,
} from './contact-codec.js';
import * as memberships from './memberships.js';
import { KEYED_COLUMNS, syncDuplicateKeys } from './duplicate-keys.js';
import { HANDLE_COLUMNS, handleHolders, syncContactHandles } from './contact-handles.js';
import { fieldChanges, type ChangeType } from '../../domain/changes.js';

export type ContactChanges = Updateable<Omit<ContactsTable, 'key' | 'organisation_id' | 'id'>>;

/*
 * Every write of contacts below keeps their duplicate keys (duplicate-keys.ts) and their other
 * numbers and addresses (contact-handles.ts) in its own transaction: the one place, so that no
 * path that writes a contact can leave them stale.
 */

export type ContactSort = 'name' | 'created_at' | 'updated_at';
const SORT_COLUMN = { name: 'sort_name', created_at: 'created_at', updated_at: 'updated_at' } as const;

export interface ContactFilter {
  /** Members of this group only; `members` is its member_count, which decides how the page is read. */
  group?: { key: number; members: number };
  phone?: string;
  email?: string;
  q?: string;
  updatedSince?: number;
  consent?: { channel: Channel; status: ConsentStatus };
  createdBy?: string;
  deleted?: 'exclude' | 'only' | 'include';
}

/** One contact, as every single create inserts it: prepared, Kysely building 26 columns being much of a write. */
const INSERT_ONE = prepare((scope: TenantScope, row: NewContactRow) =>
  scope
    .insertInto('contacts', Object.fromEntries(NEW_CONTACT_COLUMNS.map((c) => [c, row[c]])) as NewContactRow)
    .returning(['id', 'key']),
);

/** Inserts one contact; returns its key. */
export async function insertContact(scope: TenantScope, row: NewContactRow): Promise<number> {
  const [inserted] = await scope.run(INSERT_ONE, row);
  await syncDuplicateKeys(scope, [{ ...row, key: inserted!.key }], true);
  await syncContactHandles(scope, [{ ...row, key: inserted!.key }], true);
  scope.record({ type: 'contact.created', resourceId: row.id, version: row.version });
  return inserted!.key;
}

/** Inserts contacts; returns each one's id and key (matched by id, not by order). */
export async function insertContacts(scope: TenantScope, rows: NewContactRow[]) {
  const keys = new Map<string, number>();
  for (const row of rows) scope.record({ type: 'contact.created', resourceId: row.id, version: row.version });
  for (const row of await scope.insertMany('contacts', NEW_CONTACT_TYPES, rows, ['id', 'key']))
    keys.set(row.id, row.key);
  const written = rows.map((row) => ({ ...row, key: keys.get(row.id)! }));
  await syncDuplicateKeys(scope, written, true);
  await syncContactHandles(scope, written, true);
  return keys;
}

/**
 * The by-id and by-key lookups of one contact, live or not, with its consent: the hottest
 * reads, so prepared (prepared.ts), and one statement: a left join gives a row per channel.
 */
const lookup = (column: 'id' | 'key', includeDeleted: boolean) =>
  prepare((scope: TenantScope, p: { value: string | number }) => {
    const query = scope
      .selectFrom('contacts')
      .leftJoin('contact_consent', (join) =>
        scope.joinOn(join, 'contact_consent').onRef('contact_consent.contact_key', '=', 'contacts.key'),
      )
      .selectAll('contacts')
      .select([
        'contact_consent.channel as consent_channel',
        'contact_consent.status as consent_status',
        'contact_consent.changed_at as consent_changed_at',
        'contact_consent.source as consent_source',
      ])
      .where(`contacts.${column}`, '=', p.value as never);
    return includeDeleted ? query : query.where('contacts.deleted_at', 'is', null);
  });
const LOOKUPS = {
  id: [lookup('id', false), lookup('id', true)],
  key: [lookup('key', false), lookup('key', true)],
} as const;

function lookupRows(scope: TenantScope, by: { id: string } | { key: number }, includeDeleted: boolean) {
  const [column, value] = 'id' in by ? (['id', by.id] as const) : (['key', by.key] as const);
  return scope.run(LOOKUPS[column][includeDeleted ? 1 : 0], { value });
}

/** One contact's row, live or not, with its consent. */
export async function findContactWithConsent(
  scope: TenantScope,
  by: { id: string } | { key: number },
  includeDeleted = false,
): Promise<{ row: ContactRow; consent: Consent } | undefined> {
  const rows = await lookupRows(scope, by, includeDeleted);
  if (rows.length === 0) return undefined;
  const consent: Consent = {};
  for (const { consent_channel, consent_status, consent_changed_at, consent_source } of rows)
    if (consent_channel !== null)
      consent[consent_channel as Channel] = consentEntry(
        consent_status!,
        consent_changed_at!,
        consent_source!,
      );
  const { consent_channel, consent_status, consent_changed_at, consent_source, ...row } = rows[0]!;
  return { row, consent };
}

export async function findContactRow(
  scope: TenantScope,
  by: { id: string } | { key: number },
  includeDeleted = false,
): Promise<ContactRow | undefined> {
  return (await findContactWithConsent(scope, by, includeDeleted))?.row;
}

/** One contact as the API shows it, consent included. */
export async function findContact(
  scope: TenantScope,
  by: { id: string } | { key: number },
  includeDeleted = false,
): Promise<Contact | undefined> {
  const found = await findContactWithConsent(scope, by, includeDeleted);
  return found && decodeContact(found.row, found.consent);
}

export function findContactRowsByKeys(scope: TenantScope, keys: number[]) {
  return inChunks(keys, (chunk) =>
    scope
      .selectFrom('contacts')
      .selectAll()
      .where('key', 'in', chunk)
      .where('deleted_at', 'is', null)
      .execute(),
  );
}

/** Live contacts' cards by key, in no particular order: only the columns a card shows. */
export async function findContactCardsByKeys(scope: TenantScope, keys: number[]): Promise<ContactCard[]> {
  const rows = await inChunks(keys, (chunk) =>
    scope
      .selectFrom('contacts')
      .select(CARD_COLUMNS)
      .where('key', 'in', chunk)
      .where('deleted_at', 'is', null)
      .execute(),
  );
  return rows.map(decodeCard);
}

/**
 * The keys of the contacts (live or not) holding any of these numbers or addresses, as their
 * primary one or another: a union of two index ranges, which keeps the plans of the queries
 * that test `key in` it (an OR of the two made PostgreSQL scan the organisation's contacts).
 */
function holders(scope: TenantScope, kind: 'phone' | 'email', values: string[]) {
  return scope
    .selectFrom('contacts')
    .select('contacts.key as key')
    .where(`contacts.${kind}`, 'in', values)
    .union(handleHolders(scope, kind, values));
}

const liveHolders = (scope: TenantScope, kind: 'phone' | 'email', values: string[]) =>
  scope
    .selectFrom('contacts')
    .selectAll()
    .where('key', 'in', holders(scope, kind, values))
    .where('deleted_at', 'is', null);

const LIVE_BY_PHONE = prepare((scope: TenantScope, p: { phone: string }) =>
  liveHolders(scope, 'phone', [p.phone]),
);

/**
 * The live holders of these numbers, for a writer about to give contacts them: first it waits for
 * any other writer doing so until that one ends, so that the lookup sees the other's write (the
 * unique index guards two primary numbers only). Locks, on PostgreSQL: one a number, beside a
 * shared one on the organisation's numbers; `everyNumber` (an import batch) takes that one
 * exclusively instead, one lock where one a number would be a thousand a batch in PostgreSQL's
 * shared lock table (max_locks_per_transaction). SQLite's writers take turns: no lock.
 */
export async function findLiveByPhonesToWrite(
  scope: TenantScope,
  phones: string[],
  { everyNumber = false }: { everyNumber?: boolean } = {},
): Promise<ContactRow[]> {
  if (phones.length === 0) return [];
  if (everyNumber) await scope.lock([ALL_NUMBERS]);
  else {
    await scope.lock([ALL_NUMBERS], { shared: true });
    await scope.lock(phones.map((phone) => `phone:${phone}`));
  }
  return findLiveByPhones(scope, phones);
}
const ALL_NUMBERS = 'phone:*';

/** Live contacts holding any of these E.164 numbers, primary or not: the identity rule's lookup. */
export function findLiveByPhones(scope: TenantScope, phones: string[]) {
  if (phones.length === 0) return Promise.resolve([]);
  // One number is every single write's check: prepared.
  if (phones.length === 1) return scope.run(LIVE_BY_PHONE, { phone: phones[0]! });
  return inChunks(phones, (chunk) => liveHolders(scope, 'phone', chunk).execute());
}

/** Live contacts holding any of these addresses, primary or not. */
export function findLiveByEmails(scope: TenantScope, emails: string[]) {
  if (emails.length === 0) return Promise.resolve([]);
  return inChunks(emails, (chunk) => liveHolders(scope, 'email', chunk).execute());
}

/**
 * Live contacts with neither a number nor an email, by sort name: the only way to tell that an
 * imported row without either is a contact already there (matched then on its other fields).
 */
export function findLiveUnreachableByNames(scope: TenantScope, sortNames: string[]) {
  if (sortNames.length === 0) return Promise.resolve([]);
  return scope
    .selectFrom('contacts')
    .selectAll()
    .where('sort_name', 'in', sortNames)
    .where('phone', 'is', null)
    .where('email', 'is', null)
    .where('deleted_at', 'is', null)
    .execute();
}

export function findLiveByUser(scope: TenantScope, userId: string) {
  return scope
    .selectFrom('contacts')
    .selectAll()
    .where('user_id', '=', userId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

/**
 * Applies changes only if the row is still at `version`; returns the new row, or undefined when
 * it moved on. The one writer of deleted_at: a contact deleted or restored is uncounted or
 * counted again in its groups here (memberships.liveChanged), whichever path deletes it. Logs
 * the change: deleted, restored, merged into another, or updated with its fields before and after.
 */
export async function updateContactRow(scope: TenantScope, current: ContactRow, changes: ContactChanges) {
  const updated = await scope
    .updateTable('contacts')
    .set({ ...changes, version: current.version + 1 })
    .where('key', '=', current.key)
    .where('version', '=', current.version)
    .returningAll()
    .executeTakeFirst();
  if (updated && (current.deleted_at === null) !== (updated.deleted_at === null))
    await memberships.liveChanged(scope, current.key, updated.deleted_at === null ? 1 : -1);
  if (updated && KEYED_COLUMNS.some((column) => column in changes)) await syncDuplicateKeys(scope, [updated]);
  if (updated && HANDLE_COLUMNS.some((column) => column in changes))
    await syncContactHandles(scope, [updated]);
  if (updated)
    scope.record({
      type: updateType(current, updated),
      resourceId: updated.id,
      version: updated.version,
      changes: fieldChanges(
        loggedFields(current),
        loggedFields(updated, changes as Partial<ContactRow>),
        LOGGED_CONTACT_COLUMNS,
      ),
    });
  return updated;
}

function updateType(before: ContactRow, after: ContactRow): ChangeType {
  if (before.deleted_at === null && after.deleted_at !== null)
    return after.merged_into ? 'contact.merged' : 'contact.deleted';
  if (before.deleted_at !== null && after.deleted_at === null) return 'contact.restored';
  return 'contact.updated';
}

/**
 * Deletes a contact for good, with its consent and memberships (uncounted first if it was live),
 * and its values from the log (db/change-log.ts): only tombstones of its entries stay.
 */
export async function deleteContactRow(
  scope: TenantScope,
  current: Pick<ContactRow, 'key' | 'id' | 'deleted_at'>,
) {
  if (current.deleted_at === null) await memberships.liveChanged(scope, current.key, -1);
  await memberships.deleteMembershipsOfContact(scope, current.key);
  await scope.deleteFrom('contact_consent').where('contact_key', '=', current.key).execute();
  await scope.deleteFrom('contacts').where('key', '=', current.key).execute();
  await syncDuplicateKeys(scope, [{ ...NO_KEYS, key: current.key }]);
  await syncContactHandles(scope, [{ ...NO_KEYS, key: current.key }]);
  scope.record({ type: 'contact.erased', resourceId: current.id });
}

/** A contact that has no keys any more. */
const NO_KEYS = {
  display_name: '',
  first_name: null,
  middle_name: null,
  last_name: null,
  company: null,
  phone: null,
  phone_raw: null,
  phone_valid: null,
  email: null,
  phones: null,
  emails: null,
  external_ids: '{}',
  deleted_at: 0,
};

/**
 * The least string above every string that starts with `prefix` in code point order, which is
 * UTF-8's byte order and so COLLATE "C"'s: the prefix with its last code point incremented
 * (past the surrogates, which UTF-8 cannot hold); undefined when there is none (all U+10FFFF).
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = [...prefix];
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) return points.join('') + String.fromCodePoint(last === 0xd7ff ? 0xe000 : last + 1);
  }
  return undefined;
}

/**
 * Every word of `q` is a prefix of a word of the contact. On PostgreSQL a prefix is a range of
 * contact_words (migration 0005 says why not the full-text index), one subquery per word.
 */
function matchExpression(scope: TenantScope, q: string) {
  const tokens = queryTokens(q);
  if (scope.dialect === 'postgres') {
    const matches = tokens.map((token) => {
      const end = prefixEnd(token);
      let words = scope
        .selectFrom('contact_words')
        .select('contact_words.contact_key')
        .where('contact_words.word', '>=', token);
      if (end !== undefined) words = words.where('contact_words.word', '<', end);
      return sql<boolean>`contacts.key in (${words})`;
    });
    return sql<boolean>`(${sql.join(matches, sql` and `)})`;
  }
  const query = tokens.map((t) => `"${t}"*`).join(' ');
  return sql<boolean>`contacts.key in (select rowid from contacts_fts where contacts_fts match ${query})`;
}

/**
 * Below this many members a group's page, other than a page by name alone (below), is read from
 * its memberships, then sorted; above it, by walking the contacts in sort order and keeping the
 * members. SQLite's planner, on sampled statistics (an organisation looks no larger than
 * ANALYZE's analysis_limit, connection.ts; measured with `pragma optimize`'s 2,000), always walks the
 * sort order: a page of a 1,000-member group among 1,000,000 contacts read 1,000,000 rows (1.1 s)
 * instead of 1,000 (2 ms). Walking wins again from about 20,000 members (a large share of the
 * organisation).
 */
const SMALL_GROUP = 10_000;

/**
 * A page of a group by name that nothing else filters walks the memberships' copy of the sort
 * name (migration 0006) in order: ~limit index entries, each joined to its contact by key, for a
 * group of any size. The filters that have an index or a search of their own keep the plans above.
 */
function pagedByMembershipName(filter: ContactFilter, sort: ContactSort): boolean {
  return (
    sort === 'name' &&
    !filter.phone &&
    !filter.email &&
    !filter.q &&
    filter.updatedSince === undefined &&
    !filter.consent &&
    !filter.createdBy
  );
}

function groupMembers(scope: TenantScope, groupKey: number, fromMemberships: boolean) {
  if (fromMemberships) {
    // CROSS JOIN makes SQLite loop over the left table first; PostgreSQL plans it as any inner join.
    return scope
      .selectFrom('memberships')
      .crossJoin('contacts')
      .selectAll('contacts')
      .where('memberships.group_key', '=', groupKey)
      .where('contacts.organisation_id', '=', scope.organisationId)
      .whereRef('contacts.key', '=', 'memberships.contact_key');
  }
  return scope
    .selectFrom('contacts')
    .innerJoin('memberships', (join) =>
      scope
        .joinOn(join, 'memberships')
        .onRef('memberships.contact_key', '=', 'contacts.key')
        .on('memberships.group_key', '=', groupKey),
    )
    .selectAll('contacts');
}

/**
 * PostgreSQL would fill a page of a search by walking the sort column's index and testing each
 * contact it passes, which costs the share of contacts before the 50th match: ruinous for a rare
 * word, and for a common one whose contacts cluster in the sort order (first names lead
 * sort_name: "Ingrid" walked 428,623 of 1,000,000 contacts, 14 s). Sorting by an expression the
 * index cannot give makes it read the words' matches and sort those instead (2 ms for a
 * surname; 1 s for Ingrid's 52,000 contacts, all of which it then reads).
 */
function sortExpression(scope: TenantScope, sortRef: string, filter: ContactFilter) {
  const ref = sql.ref(sortRef);
  if (scope.dialect !== 'postgres' || !filter.q) return ref;
  return sortRef === 'contacts.sort_name' ? sql`${ref} || ''` : sql`${ref} + 0`;
}

/** Contacts matching a list's filters, every column selected; a group's read from its memberships when `fromMemberships`. */
function filtered(scope: TenantScope, filter: ContactFilter, fromMemberships: boolean) {
  let query = filter.group
    ? groupMembers(scope, filter.group.key, fromMemberships)
    : scope.selectFrom('contacts').selectAll('contacts');
  const deleted = filter.deleted ?? 'exclude';
  if (deleted === 'exclude') query = query.where('contacts.deleted_at', 'is', null);
  if (deleted === 'only') query = query.where('contacts.deleted_at', 'is not', null);
  if (filter.phone) query = query.where('contacts.key', 'in', holders(scope, 'phone', [filter.phone]));
  if (filter.email) query = query.where('contacts.key', 'in', holders(scope, 'email', [filter.email]));
  if (filter.createdBy) query = query.where('contacts.created_by', '=', filter.createdBy);
  if (filter.updatedSince !== undefined)
    query = query.where('contacts.updated_at', '>=', filter.updatedSince);
  if (filter.q && queryTokens(filter.q).length > 0) query = query.where(matchExpression(scope, filter.q));
  if (filter.consent) {
    const { channel, status } = filter.consent;
    const consented = scope
      .selectFrom('contact_consent')
      .select('contact_consent.contact_key')
      .where('contact_consent.channel', '=', channel)
      .where('contact_consent.status', '=', status);
    query = query.where('contacts.key', 'in', consented);
  }
  return query;
}

/**
 * Rows an export reads at a time: few round trips, about a megabyte in memory. Chunks of 5,000
 * outlived the young generation and cost their copying (SQLite, A/B in one process, load 8-11:
 * 1,000 used 14-36% less CPU a row than 5,000, and 2,000 3-18% less than 1,000; PostgreSQL 2,000
 * 1-11% less than 1,000).
 */
const EXPORT_CHUNK = 2000;

/**
 * Every contact matching the filters, as an export writes it, a chunk at a time: in key order
 * unless a sort is asked for, each chunk one indexed range after the last row (a group's by its
 * memberships' key), so the export costs the same at its millionth row as at its first and
 * holds one chunk in memory. A sort walks (sort column, key) the way pages do.
 */
export async function* exportContactRows(
  scope: TenantScope,
  filter: ContactFilter,
  order?: { sort: ContactSort; descending: boolean },
): AsyncIterable<(Omit<ExportedContact, 'groups'> & { key: number })[]> {
  const keyRef = filter.group && !order ? 'memberships.contact_key' : 'contacts.key';
  const sortRef = order && (`contacts.${SORT_COLUMN[order.sort]}` as const);
  const direction = order?.descending ? 'desc' : 'asc';
  let query = filtered(scope, filter, true)
    .clearSelect()
    .select([
      'contacts.key',
      'contacts.id',
      'contacts.display_name as name',
      'contacts.first_name',
      'contacts.middle_name',
      'contacts.last_name',
      'contacts.company',
      'contacts.phone',
      'contacts.email',
      'contacts.channel',
      'contacts.language',
      'contacts.avatar_url',
      'contacts.title',
      'contacts.department',
      'contacts.nickname',
      'contacts.notes',
      'contacts.phone_raw',
      'contacts.phone_valid',
      'contacts.phones',
      'contacts.emails',
      'contacts.addresses',
      'contacts.dates',
      'contacts.urls',
      'contacts.custom',
      'contacts.external_ids',
    ])
    .select(sql<string | number>`${sql.ref(sortRef ?? keyRef)}`.as('sort_value'));
  if (sortRef) query = query.orderBy(sortExpression(scope, sortRef, filter), direction);
  query = query.orderBy(keyRef, direction).limit(EXPORT_CHUNK);
  let after: { value: string | number; key: number } | undefined;
  for (;;) {
    const page = after;
    const rows = await (
      page === undefined
        ? query
        : sortRef
          ? query.where((eb) =>
              eb(
                eb.refTuple(sortRef, keyRef),
                direction === 'desc' ? '<' : '>',
                eb.tuple(page.value as never, page.key),
              ),
            )
          : query.where(keyRef, '>', page.key)
    ).execute();
    // Parsed in place: a second object per contact is most of what an export allocates.
    for (const row of rows) {
      const exported = row as unknown as Omit<ExportedContact, 'groups'>;
      Object.assign(exported, detailsOf(row));
      exported.custom = JSON.parse(row.custom);
      exported.external_ids = JSON.parse(row.external_ids);
    }
    yield rows as unknown as (Omit<ExportedContact, 'groups'> & { key: number })[];
    if (rows.length < EXPORT_CHUNK) return;
    const last = rows[rows.length - 1]!;
    after = { value: last.sort_value, key: last.key };
  }
}

export async function listContactRows(
  scope: TenantScope,
  filter: ContactFilter,
  sort: ContactSort,
  limit: number,
  after?: { value: string | number; key: number },
  descending = false,
): Promise<KeysetPage<ContactRow>> {
  const column = SORT_COLUMN[sort];
  const membershipOrder = filter.group !== undefined && pagedByMembershipName(filter, sort);
  // The membership's sort_name and contact_key are its contact's: the same page and cursors.
  const [sortRef, keyRef] = membershipOrder
    ? (['memberships.sort_name', 'memberships.contact_key'] as const)
    : ([`contacts.${column}`, 'contacts.key'] as const);
  let query = filtered(
    scope,
    filter,
    filter.group !== undefined && (membershipOrder || filter.group.members <= SMALL_GROUP),
  );
  if (after) {
    query = query.where((eb) =>
      eb(eb.refTuple(sortRef, keyRef), descending ? '<' : '>', eb.tuple(after.value as never, after.key)),
    );
  }
  const rows = await query
    .orderBy(sortExpression(scope, sortRef, filter), descending ? 'desc' : 'asc')
    .orderBy(keyRef, descending ? 'desc' : 'asc')
    .limit(limit + 1)
    .execute();
  return pageOf(rows, limit, (row) => row[column]);
}

export async function consentOf(scope: TenantScope, keys: number[]): Promise<Map<number, Consent>> {
  const byContact = new Map<number, Consent>();
  const rows = await inChunks(keys, (chunk) =>
    scope.selectFrom('contact_consent').selectAll().where('contact_key', 'in', chunk).execute(),
  );
  for (const row of rows) {
    const consent = byContact.get(row.contact_key) ?? {};
    consent[row.channel as Channel] = consentEntry(row.status, row.changed_at, row.source);
    byContact.set(row.contact_key, consent);
  }
  return byContact;
}

type ConsentWrite = { status: ConsentStatus; changed_at: number; source: string };

const SET_CONSENT = prepare(
  (scope: TenantScope, p: ConsentWrite & { contact_key: number; channel: Channel }) =>
    scope
      .insertInto('contact_consent', {
        contact_key: p.contact_key,
        channel: p.channel,
        status: p.status,
        changed_at: p.changed_at,
        source: p.source,
      })
      .onConflict((oc) =>
        oc.columns(['organisation_id', 'contact_key', 'channel']).doUpdateSet({
          status: p.status,
          changed_at: p.changed_at,
          source: p.source,
        }),
      ),
);

const CONSENT_OF = prepare((scope: TenantScope, p: { contact_key: number; channel: string }) =>
  scope
    .selectFrom('contact_consent')
    .select('status')
    .where('contact_key', '=', p.contact_key)
    .where('channel', '=', p.channel),
);

/** A contact's consent on one channel, logged with its status before and after (when it changed). */
export async function setConsent(
  scope: TenantScope,
  contact: { key: number; id: string },
  channel: Channel,
  entry: ConsentWrite,
): Promise<void> {
  const [before] = await scope.run(CONSENT_OF, { contact_key: contact.key, channel });
  await scope.run(SET_CONSENT, { contact_key: contact.key, channel, ...entry });
  recordConsent(scope, contact.id, channel, before?.status ?? null, entry.status);
}

export async function deleteConsent(
  scope: TenantScope,
  contact: { key: number; id: string },
  channel: Channel,
): Promise<void> {
  const deleted = await scope
    .deleteFrom('contact_consent')
    .where('contact_key', '=', contact.key)
    .where('channel', '=', channel)
    .returning('status')
    .executeTakeFirst();
  if (deleted) recordConsent(scope, contact.id, channel, deleted.status, null);
}

function recordConsent(
  scope: TenantScope,
  id: string,
  channel: Channel,
  old: string | null,
  now: string | null,
) {
  if (old !== now)
    scope.record({ type: 'consent.updated', resourceId: id, changes: { [channel]: { old, new: now } } });
}

/** Switches the one-live-contact-per-number rule on (phone_unique mirrors phone) or off. */
export async function setPhoneUniqueness(scope: TenantScope, unique: boolean): Promise<void> {
  await scope
    .updateTable('contacts')
    .set((eb) => ({ phone_unique: unique ? eb.ref('phone') : null }))
    .execute();
}

/**
 * A number that two live contacts hold where one of them holds it besides its primary number
 * (the unique index on phone_unique catches two primaries), if any: what forbids switching
 * duplicates off. Reads every live contact's other numbers, for a setting that rarely changes.
 */
export async function sharedOtherNumber(scope: TenantScope): Promise<string | undefined> {
  const liveHandles = () =>
    scope
      .selectFrom('contact_handles')
      .innerJoin('contacts', (join) =>
        scope.joinOn(join, 'contacts').onRef('contacts.key', '=', 'contact_handles.contact_key'),
      )
      .select('contact_handles.value')
      .where('contact_handles.kind', '=', 'phone')
      .where('contacts.deleted_at', 'is', null);
  const twice = await liveHandles()
    .groupBy('contact_handles.value')
    .having((eb) => eb.fn.countAll(), '>', 1)
    .limit(1)
    .executeTakeFirst();
  if (twice) return twice.value;
  const primaries = scope
    .selectFrom('contacts')
    .select('contacts.phone')
    .where('contacts.phone', 'is not', null)
    .where('contacts.deleted_at', 'is', null);
  const held = await liveHandles()
    .where('contact_handles.value', 'in', primaries as never)
    .limit(1)
    .executeTakeFirst();
  return held?.value;
}

export function findLiveByIds(scope: TenantScope, ids: string[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return scope
    .selectFrom('contacts')
    .select(['id', 'key'])
    .where('id', 'in', ids)
    .where('deleted_at', 'is', null)
    .execute();
}

/**
 * Live contacts whose external id under `system` is one of these. JSON is text in both
 * databases, so this reads each contact of the organisation: fine for occasional imports,
 * and the place for an expression index when a platform matches on external ids at scale.
 */
export function findLiveByExternalIds(scope: TenantScope, system: string, ids: string[]) {
  const value =
    scope.dialect === 'postgres'
      ? sql<string>`(contacts.external_ids::jsonb ->> ${system})`
      : sql<string>`json_extract(contacts.external_ids, ${`$."${system}"`})`;
  return inChunks(ids, (chunk) =>
    scope
      .selectFrom('contacts')
      .selectAll()
      .where(value, 'in', chunk)
      .where('deleted_at', 'is', null)
      .execute(),
  );
}
