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

/** A row's logged fields as values (its JSON columns parsed): what an update entry compares. */
export function loggedFields(row: Partial<ContactRow>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const column of LOGGED_CONTACT_COLUMNS) {
    if (!(column in row)) continue;
    const value = row[column];
    fields[column] = JSON_COLUMNS.has(column) && typeof value === 'string' ? JSON.parse(value) : value;
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

/** What the contacts service settles before a contact is stored: its input checked, phone and email read. */
export interface SettledContact {
  input: ContactInput;
  /** A number read, or one an import kept as written, unread (phone null, phone_raw, phone_valid 0). */
  phone: NormalisedPhone | UnreadPhone | null;
  email: string | null;
  /** The organisation keeps one live contact per number: phone_unique mirrors phone. */
  uniquePhones: boolean;
}

/** A settled contact as the columns stored, derived columns (name, sort and search keys, phone_unique) included. */
export function encodeContact({ input, phone, email, uniquePhones }: SettledContact): ContactFields {
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
    custom: JSON.stringify(input.custom ?? {}),
    external_ids: JSON.stringify(input.external_ids ?? {}),
    extensions:
      input.extensions && Object.keys(input.extensions).length ? JSON.stringify(input.extensions) : null,
    user_id: input.user_id ?? null,
  };
  return { ...row, search_doc: searchDocument(row) };
}

/** A stored phone as it was read when stored (or kept unread); undefined when the row has none. */
export function storedPhone(row: ContactRow): NormalisedPhone | UnreadPhone | undefined {
  if (row.phone_raw === null || row.phone_valid === null) return undefined;
  if (row.phone === null) return { e164: null, raw: row.phone_raw, valid: false };
  return { e164: row.phone, raw: row.phone_raw, valid: row.phone_valid === 1 };
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
