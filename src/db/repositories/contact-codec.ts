import type { Selectable } from 'kysely';
import {
  displayName,
  searchDocument,
  sortKey,
  type Channel,
  type Consent,
  type ConsentStatus,
  type ContactInput,
} from '../../domain/contact.js';
import { keptAddress, type ContactEmail, type ContactPhone } from '../../domain/contact-details.js';
import type { NormalisedPhone, UnreadPhone } from '../../domain/phone.js';
import { iso, isoOrNull, type Contact, type ContactCard } from '../../domain/records.js';
import type { ContactsTable } from '../schema.js';

/*
 * A contact's storage encoding, both ways: a stored row to the record services return
 * (decodeContact), and a settled input to the columns stored (encodeContact). Every list of a
 * contact's columns (inserts, updates, an import's undo log) derives from CONTACT_FIELD_COLUMNS.
 */

export type ContactRow = Selectable<ContactsTable>;

/** The columns a contact's input sets (and an update may change): its fields, without identity, authorship or times. */
export type ContactFields = Omit<
  ContactRow,
  | 'key'
  | 'organisation_id'
  | 'id'
  | 'created_by'
  | 'created_at'
  | 'updated_at'
  | 'deleted_at'
  | 'version'
  | 'merged_into'
>;

/** Every column of ContactFields, spelled out once (the compiler checks none is missing). */
export const CONTACT_FIELD_COLUMNS = Object.keys({
  display_name: true,
  sort_name: true,
  first_name: true,
  middle_name: true,
  last_name: true,
  company: true,
  phone: true,
  phone_raw: true,
  phone_valid: true,
  phone_unique: true,
  email: true,
  channel: true,
  avatar_url: true,
  language: true,
  custom: true,
  external_ids: true,
  extensions: true,
  title: true,
  department: true,
  nickname: true,
  notes: true,
  phones: true,
  emails: true,
  addresses: true,
  dates: true,
  urls: true,
  user_id: true,
  search_doc: true,
} satisfies Record<keyof ContactFields, true>) as (keyof ContactFields)[];

/**
 * The fields a contact's log entries show, before and after an update: what a client reads,
 * not the columns derived from it (sort and search words, the number's readings).
 */
const DERIVED_COLUMNS = new Set<keyof ContactRow>([
  'sort_name',
  'phone_raw',
  'phone_valid',
  'phone_unique',
  'search_doc',
]);
export const LOGGED_CONTACT_COLUMNS: (keyof ContactRow)[] = [
  ...CONTACT_FIELD_COLUMNS.filter((column) => !DERIVED_COLUMNS.has(column)),
  'merged_into',
];
const JSON_COLUMNS = new Set(['custom', 'external_ids', 'extensions']);
/** Lists stored as JSON, null when empty: logged as the lists a client reads. */
const LIST_COLUMNS = new Set(['addresses', 'dates', 'urls']);

/** The columns a contact's numbers and addresses are stored in: a change to any is a change of its list. */
const LIST_SOURCES = {
  phones: ['phone', 'phone_raw', 'phone_valid', 'phones'],
  emails: ['email', 'emails'],
} as const;

/**
 * A row's logged fields as values (its JSON columns parsed), those of `changed` only: what an
 * update entry compares. Lists are logged as a client reads them ([] for none; numbers and
 * addresses whole, whichever of their columns changed: the list column alone is null for one
 * unlabelled number).
 */
export function loggedFields(row: ContactRow, changed: Partial<ContactRow> = row): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const column of LOGGED_CONTACT_COLUMNS) {
    if (column === 'phones' || column === 'emails') {
      if (LIST_SOURCES[column].some((source) => source in changed))
        fields[column] = (column === 'phones' ? phonesOf(row) : emailsOf(row)).map(
          ({ primary: _primary, ...entry }) => entry,
        );
      continue;
    }
    if (!(column in changed)) continue;
    const value = row[column];
    if (LIST_COLUMNS.has(column)) fields[column] = value === null ? [] : JSON.parse(value as string);
    else fields[column] = JSON_COLUMNS.has(column) && typeof value === 'string' ? JSON.parse(value) : value;
  }
  return fields;
}

/** A new contact: never a merged one. */
export type NewContactRow = Omit<ContactRow, 'key' | 'organisation_id' | 'merged_into'>;

/** Every column a new contact is given: a prepared query's values are named, not spread. */
export const NEW_CONTACT_COLUMNS: (keyof NewContactRow)[] = [
  'id',
  ...CONTACT_FIELD_COLUMNS,
  'created_by',
  'created_at',
  'updated_at',
  'deleted_at',
  'version',
];

/** A new contact's columns with their PostgreSQL types, for inserts of many rows as arrays. */
export const NEW_CONTACT_TYPES = NEW_CONTACT_COLUMNS.map(
  (column) =>
    [
      column,
      {
        phone_valid: 'integer',
        version: 'integer',
        created_at: 'bigint',
        updated_at: 'bigint',
        deleted_at: 'bigint',
      }[column as string] ?? 'text',
    ] as const,
);

/** A number as settled for storing: read, or kept as written, with its label. */
export type SettledPhone = (NormalisedPhone | UnreadPhone) & { label: string | null };
export interface SettledEmail {
  address: string;
  label: string | null;
}

/** What the contacts service settles before a contact is stored: its input checked, numbers and addresses read. */
export interface SettledContact {
  input: ContactInput;
  /** Every number, primary first, each once: read, or one an import kept as written (e164 null, valid false). */
  phones: SettledPhone[];
  /** Every address, primary first, each once, normalised. */
  emails: SettledEmail[];
  /** The organisation keeps one live contact per number: phone_unique mirrors phone. */
  uniquePhones: boolean;
}

/** A list column: null when empty, so that most contacts store nothing for it. */
const listColumn = (list: readonly unknown[] | null | undefined) =>
  list && list.length > 0 ? JSON.stringify(list) : null;

/** A settled contact as the columns stored, derived columns (name, sort and search keys, phone_unique) included. */
export function encodeContact({ input, phones, emails, uniquePhones }: SettledContact): ContactFields {
  const [phone] = phones;
  const email = emails[0]?.address ?? null;
  const name = displayName({
    ...input,
    phone: phone ? (phone.e164 ?? phone.raw) : null,
    email,
    name: input.name ?? null,
  });
  const row = {
    display_name: name,
    sort_name: sortKey(name),
    first_name: input.first_name ?? null,
    middle_name: input.middle_name ?? null,
    last_name: input.last_name ?? null,
    company: input.company ?? null,
    phone: phone?.e164 ?? null,
    phone_raw: phone?.raw ?? null,
    phone_valid: phone ? (phone.valid ? 1 : 0) : null,
    phone_unique: phone?.e164 && uniquePhones ? phone.e164 : null,
    email,
    channel: input.channel ?? null,
    // An empty URL is no avatar: the field holds a link or nothing.
    avatar_url: input.avatar_url || null,
    language: input.language ?? null,
    title: input.title || null,
    department: input.department || null,
    nickname: input.nickname || null,
    notes: input.notes || null,
    // The phone columns say all of one number without a label; the list is kept when it says more.
    phones:
      phones.length > 1 || phone?.label
        ? JSON.stringify(phones.map((p) => ({ number: p.e164, raw: p.raw, valid: p.valid, label: p.label })))
        : null,
    emails: emails.length > 1 || emails[0]?.label ? JSON.stringify(emails) : null,
    addresses: listColumn(input.addresses?.map(keptAddress)),
    dates: listColumn(input.dates),
    urls: listColumn(input.urls),
    custom: JSON.stringify(input.custom ?? {}),
    external_ids: JSON.stringify(input.external_ids ?? {}),
    extensions:
      input.extensions && Object.keys(input.extensions).length ? JSON.stringify(input.extensions) : null,
    user_id: input.user_id ?? null,
  };
  return {
    ...row,
    search_doc: searchDocument({
      ...row,
      // As typed too, as the primary number is: "0412 345 678" finds +61412345678.
      other_phones: phones.slice(1).flatMap((p) => (p.e164 ? [p.e164, p.raw] : [p.raw])),
      other_emails: emails.slice(1).map((e) => e.address),
    }),
  };
}

/** A stored row's numbers, primary first, as stored (or kept unread). */
export function phonesOf(
  row: Pick<ContactRow, 'phone' | 'phone_raw' | 'phone_valid' | 'phones'>,
): ContactPhone[] {
  if (row.phones !== null)
    return (JSON.parse(row.phones) as Omit<ContactPhone, 'primary'>[]).map((p, i) => ({
      ...p,
      primary: i === 0,
    }));
  if (row.phone_raw === null || row.phone_valid === null) return [];
  return [
    { number: row.phone, raw: row.phone_raw, valid: row.phone_valid === 1, label: null, primary: true },
  ];
}

const numbersRead = new WeakMap<object, readonly string[]>();

/**
 * A row's numbers read (E.164), primary first, unread ones left out. An import's matching asks
 * this of one row many times, so the list is kept with the row (rows are never changed in place).
 */
export function numbersOf(
  row: Pick<ContactRow, 'phone' | 'phone_raw' | 'phone_valid' | 'phones'>,
): readonly string[] {
  let numbers = numbersRead.get(row);
  if (!numbers) {
    numbers = phonesOf(row).flatMap((p) => (p.number === null ? [] : [p.number]));
    numbersRead.set(row, numbers);
  }
  return numbers;
}

/** A stored row's addresses, primary first. */
export function emailsOf(row: Pick<ContactRow, 'email' | 'emails'>): ContactEmail[] {
  if (row.emails !== null)
    return (JSON.parse(row.emails) as Omit<ContactEmail, 'primary'>[]).map((e, i) => ({
      ...e,
      primary: i === 0,
    }));
  return row.email === null ? [] : [{ address: row.email, label: null, primary: true }];
}

/** A stored row's lists as a contact shows them: every number and address, postal addresses, dates and links. */
export function detailsOf(
  row: Pick<
    ContactRow,
    'phone' | 'phone_raw' | 'phone_valid' | 'phones' | 'email' | 'emails' | 'addresses' | 'dates' | 'urls'
  >,
): Pick<Contact, 'phones' | 'emails' | 'addresses' | 'dates' | 'urls'> {
  return {
    phones: phonesOf(row),
    emails: emailsOf(row),
    addresses: row.addresses === null ? [] : JSON.parse(row.addresses),
    dates: row.dates === null ? [] : JSON.parse(row.dates),
    urls: row.urls === null ? [] : JSON.parse(row.urls),
  };
}

/** The numbers (E.164) and addresses a row holds besides its primary ones: its rows in contact_handles. */
export function otherHandlesOf(row: Pick<ContactRow, 'phones' | 'emails'>) {
  const handles: { kind: 'phone' | 'email'; value: string }[] = [];
  if (row.phones !== null)
    for (const p of (JSON.parse(row.phones) as { number: string | null }[]).slice(1))
      if (p.number) handles.push({ kind: 'phone', value: p.number });
  if (row.emails !== null)
    for (const e of (JSON.parse(row.emails) as { address: string }[]).slice(1))
      handles.push({ kind: 'email', value: e.address });
  return handles;
}

/** A stored number as it was read when stored (or kept unread), by the text an input names it with. */
export function storedPhones(row: ContactRow): Map<string, NormalisedPhone | UnreadPhone> {
  return new Map(
    phonesOf(row).map((p) => [
      p.number ?? p.raw,
      p.number === null
        ? { e164: null, raw: p.raw, valid: false }
        : { e164: p.number, raw: p.raw, valid: p.valid },
    ]),
  );
}

export function decodeContact(row: ContactRow, consent: Consent = {}): Contact {
  return {
    key: row.key,
    id: row.id,
    organisation_id: row.organisation_id,
    name: row.display_name,
    first_name: row.first_name,
    middle_name: row.middle_name,
    last_name: row.last_name,
    company: row.company,
    phone: row.phone,
    phone_raw: row.phone_raw,
    phone_valid: row.phone_valid === null ? null : row.phone_valid === 1,
    email: row.email,
    channel: row.channel as Channel | null,
    avatar_url: row.avatar_url,
    language: row.language,
    title: row.title,
    department: row.department,
    nickname: row.nickname,
    notes: row.notes,
    ...detailsOf(row),
    custom: JSON.parse(row.custom),
    external_ids: JSON.parse(row.external_ids),
    consent,
    extensions: row.extensions === null ? {} : JSON.parse(row.extensions),
    user_id: row.user_id,
    created_by: row.created_by,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    deleted_at: isoOrNull(row.deleted_at),
    version: row.version,
  };
}

/** The columns a card shows, and the card they make. */
export const CARD_COLUMNS = [
  'key',
  'id',
  'display_name',
  'first_name',
  'middle_name',
  'last_name',
  'phone',
  'email',
  'avatar_url',
  'external_ids',
  'user_id',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof ContactRow)[];

export function decodeCard(row: Pick<ContactRow, (typeof CARD_COLUMNS)[number]>): ContactCard {
  return {
    key: row.key,
    id: row.id,
    name: row.display_name,
    first_name: row.first_name,
    middle_name: row.middle_name,
    last_name: row.last_name,
    phone: row.phone,
    email: row.email,
    avatar_url: row.avatar_url,
    external_ids: JSON.parse(row.external_ids),
    user_id: row.user_id,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

export const consentEntry = (status: string, changedAt: number, source: string) => ({
  status: status as ConsentStatus,
  at: iso(changedAt),
  source,
});
