import {
  validateDetails,
  type ContactDate,
  type ContactUrl,
  type EmailInput,
  type PhoneInput,
  type PostalAddress,
} from './contact-details.js';
import { DomainError, invalid } from './errors.js';
import type { Contact } from './records.js';
import type { WarningSink } from './warnings.js';

export const CHANNELS = ['sms', 'whatsapp', 'email', 'voice'] as const;
export type Channel = (typeof CHANNELS)[number];

export type ConsentStatus = 'subscribed' | 'unsubscribed';
export interface ConsentEntry {
  status: ConsentStatus;
  /** ISO 8601 time the status was last set. */
  at: string;
  /** Where the status came from: "api", "import", "sms:STOP", a form name... */
  source: string;
}
export type Consent = Partial<Record<Channel, ConsentEntry>>;

export type CustomValue = string | number | boolean;
export type CustomAttributes = Record<string, CustomValue>;
export type ExternalIds = Record<string, string>;
/**
 * What a compatibility surface keeps of a contact that Roster's own model has no field for (seed 001's survey
 * state), under the surface's name. Roster stores and returns it and never reads inside it; a surface's write
 * replaces its own entry and leaves the others'.
 */
export type Extensions = Record<string, Record<string, unknown>>;

/** The plain fields of a contact, in the order exports write them and imports read them. */
export const CONTACT_FIELDS = [
  'name',
  'first_name',
  'middle_name',
  'last_name',
  'company',
  'phone',
  'email',
  'channel',
  'language',
  'avatar_url',
  'title',
  'department',
  'nickname',
  'notes',
] as const;

/** The list fields of a contact: each replaced whole by a write that gives it. */
export const CONTACT_LIST_FIELDS = ['phones', 'emails', 'addresses', 'dates', 'urls'] as const;

/** Every field of ContactInput: what PATCH and imports read back from a stored contact to merge into. */
const CONTACT_INPUT_FIELDS = [
  ...CONTACT_FIELDS,
  ...CONTACT_LIST_FIELDS,
  'custom',
  'external_ids',
  'user_id',
  'extensions',
] as const satisfies readonly (keyof ContactInput)[];

/**
 * Limits on custom attributes, documented in docs/api.md. A string holds up to 10,000
 * characters: address books keep notes of several pages, and a contact stays within a request.
 */
export const CUSTOM_LIMITS = { maxKeys: 50, maxKeyLength: 64, maxStringLength: 10_000 } as const;
const CUSTOM_KEY = /^[A-Za-z0-9_.-]+$/;

/**
 * The fields of a contact that a caller may write. Every surface (the /v1 API, the seed
 * adapters, imports) turns its input into this shape and hands it to the contacts service.
 */
export interface ContactInput {
  name?: string | null;
  first_name?: string | null;
  middle_name?: string | null;
  last_name?: string | null;
  company?: string | null;
  phone?: string | null;
  email?: string | null;
  channel?: Channel | null;
  avatar_url?: string | null;
  language?: string | null;
  title?: string | null;
  department?: string | null;
  nickname?: string | null;
  notes?: string | null;
  /** Every number, the primary first (or marked `primary`); `phone` names the primary one. */
  phones?: PhoneInput[] | null;
  /** Every address, the primary first (or marked `primary`); `email` names the primary one. */
  emails?: EmailInput[] | null;
  addresses?: PostalAddress[] | null;
  dates?: ContactDate[] | null;
  urls?: ContactUrl[] | null;
  custom?: CustomAttributes;
  external_ids?: ExternalIds;
  user_id?: string | null;
  extensions?: Extensions;
}

/** Length limits of contact fields, checked once here for every surface. */
export const CONTACT_LIMITS = { name: 200, company: 200, url: 2048, language: 35 } as const;

const NUL = '\0';

/** A text field's rules: a length limit, and no NUL, which PostgreSQL cannot store (whatever surface it came from). */
function checkText(field: string, value: string | null | undefined, max: number): void {
  if (typeof value !== 'string') return;
  if (value.length > max) throw invalid(field, `must be at most ${max} characters`);
  if (value.includes(NUL)) throw invalid(field, 'must not contain a NUL character');
}

/** Checks the free-text fields of a contact input; phone and email have their own readers. */
export function validateContactText(input: ContactInput): void {
  for (const field of ['name', 'first_name', 'middle_name', 'last_name'] as const)
    checkText(field, input[field], CONTACT_LIMITS.name);
  checkText('company', input.company, CONTACT_LIMITS.company);
  checkText('language', input.language, CONTACT_LIMITS.language);
  checkText('avatar_url', input.avatar_url, CONTACT_LIMITS.url);
  if (input.avatar_url && !/^https?:\/\/\S+$/i.test(input.avatar_url))
    throw invalid('avatar_url', 'must be an http or https URL');
  if (input.channel != null && !CHANNELS.includes(input.channel))
    throw invalid('channel', `must be one of ${CHANNELS.join(', ')}`);
  validateDetails(input);
  if (input.custom) validateCustom(input.custom);
  if (input.external_ids) {
    for (const [key, value] of Object.entries(input.external_ids)) {
      if (
        typeof value !== 'string' ||
        value.length > 200 ||
        key.length > 64 ||
        `${key}${value}`.includes(NUL)
      )
        throw invalid(
          `external_ids.${key}`,
          'must be a string of at most 200 characters under a key of at most 64, with no NUL',
        );
    }
  }
}

/**
 * The input less the fields that break their rules, each reported: how an import keeps a person
 * whose address book entry holds one field Roster cannot take.
 */
export function withoutInvalidText(input: ContactInput, warn: WarningSink): ContactInput {
  let kept = input;
  for (;;) {
    try {
      validateContactText(kept);
      return kept;
    } catch (error) {
      const field = error instanceof DomainError ? error.details.fields?.[0] : undefined;
      if (!field) throw error;
      const [name, key] = splitField(field.field);
      const next: ContactInput = { ...kept };
      let value: unknown;
      const entry = /^(\w+)\[(\d+)\]/.exec(field.field);
      if (entry) {
        // One entry of a list that breaks its rule goes, the rest of the list stays.
        const list = [...((next as Record<string, unknown[]>)[entry[1]!] ?? [])];
        [value] = list.splice(Number(entry[2]), 1);
        (next as Record<string, unknown>)[entry[1]!] = list;
      } else if (key !== undefined && (name === 'custom' || name === 'external_ids')) {
        const entries: Record<string, unknown> = { ...next[name] };
        value = entries[key];
        delete entries[key];
        (next as Record<string, unknown>)[name] = entries;
      } else {
        value = next[name as keyof ContactInput];
        // A map that broke as a whole (too many keys) goes whole.
        delete next[name as keyof ContactInput];
      }
      const text = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value ?? '');
      warn({ kind: 'field_invalid', field: field.field, value: text, reason: `${field.message}; left out` });
      kept = next;
    }
  }
}

const splitField = (field: string): [string, string | undefined] => {
  const dot = field.indexOf('.');
  return dot < 0 ? [field, undefined] : [field.slice(0, dot), field.slice(dot + 1)];
};

export function validateCustom(custom: CustomAttributes, field = 'custom'): CustomAttributes {
  const keys = Object.keys(custom);
  if (keys.length > CUSTOM_LIMITS.maxKeys)
    throw invalid(field, `may hold at most ${CUSTOM_LIMITS.maxKeys} keys`);
  for (const key of keys) {
    if (key.length > CUSTOM_LIMITS.maxKeyLength || !CUSTOM_KEY.test(key))
      throw invalid(
        `${field}.${key}`,
        `keys are 1-${CUSTOM_LIMITS.maxKeyLength} characters of A-Z, a-z, 0-9, _ . -`,
      );
    const value = custom[key];
    if (typeof value === 'string') checkText(`${field}.${key}`, value, CUSTOM_LIMITS.maxStringLength);
    if (typeof value === 'number' && !Number.isFinite(value))
      throw invalid(`${field}.${key}`, 'must be a finite number');
    if (!['string', 'number', 'boolean'].includes(typeof value))
      throw invalid(`${field}.${key}`, 'must be a string, number or boolean');
  }
  return custom;
}

/**
 * A contact given only one `name` keeps it as given; otherwise the display name is
 * built from its parts, falling back to company, email or phone so lists never show blanks.
 */
export function displayName(c: {
  name?: string | null;
  first_name?: string | null;
  middle_name?: string | null;
  last_name?: string | null;
  company?: string | null;
  email?: string | null;
  phone?: string | null;
}): string {
  if (c.name) return c.name;
  const parts = [c.first_name, c.middle_name, c.last_name].filter(Boolean).join(' ');
  return parts || c.company || c.email || c.phone || '';
}

/**
 * Whether a contact's name is the one its parts give. Such a name is not kept as given when the
 * parts change: an edit or an import that merges into the contact leaves it to be derived again.
 */
const nameIsDerived = (c: Parameters<typeof displayName>[0]) => c.name === displayName({ ...c, name: null });

/** The writable fields of a stored contact, as an input (a derived name left out to be derived again). */
export function inputOf(c: Contact): ContactInput {
  const input = Object.fromEntries(CONTACT_INPUT_FIELDS.map((f) => [f, c[f]])) as ContactInput;
  // A number an import kept unread is held as written.
  if (input.phone === null && c.phone_raw !== null) input.phone = c.phone_raw;
  input.phones = c.phones.map((p) => ({ number: p.number ?? p.raw, label: p.label }));
  input.emails = c.emails.map((e) => ({ address: e.address, label: e.label }));
  if (nameIsDerived(input)) delete input.name;
  return input;
}

/**
 * One live contact per number, where the organisation wants it (phoneUnique is null where it
 * allows duplicates): the holder among `holders` of the number a contact would take, other than
 * the contact itself.
 */
export function phoneHolder<T>(
  phoneUnique: string | null,
  holders: readonly (T | undefined)[],
  isSelf: (holder: T) => boolean = () => false,
): T | undefined {
  if (phoneUnique === null) return undefined;
  return holders.find((h): h is T => h !== undefined && !isSelf(h));
}

/** A stored contact's names and ways to reach it: what searches and name comparisons read. */
export interface StoredNames {
  display_name: string;
  first_name: string | null;
  middle_name: string | null;
  last_name: string | null;
  company: string | null;
  email: string | null;
  phone: string | null;
  phone_raw: string | null;
  nickname?: string | null;
  /** The other numbers (E.164 or as written) and addresses, beside the primary ones. */
  other_phones?: readonly string[];
  other_emails?: readonly string[];
}

/** The words of a person's own name, or none when the contact is named only by its company, email or number. */
function personalWords(c: StoredNames): Set<string> {
  const parts = [c.first_name, c.middle_name, c.last_name].filter(Boolean).join(' ');
  const fallback = [c.company, c.email, c.phone, c.phone_raw].includes(c.display_name);
  const name = parts || (fallback ? '' : c.display_name);
  return new Set(searchTokens(name.normalize('NFKD').replace(/\p{M}/gu, '')));
}

/**
 * Whether two contacts' names can be one person's: when either has no name of its own, or the
 * words of one are all among the other's ("Ada" and "Ada Lovelace", "LOVELACE, Ada", "Ada L."). Two rows
 * sharing a family landline or a switchboard number under different names are two people.
 */
export function namesAgree(a: StoredNames, b: StoredNames): boolean {
  const left = personalWords(a);
  const right = personalWords(b);
  if (left.size === 0 || right.size === 0) return true;
  const [small, large] = left.size <= right.size ? [left, right] : [right, left];
  // A one-letter word is an initial: "Dorothy V." is "Dorothy Vaughan".
  const known = (word: string) =>
    large.has(word) || (word.length === 1 && [...large].some((w) => w.startsWith(word)));
  return [...small].every(known);
}

/** A lower-cased key for sorting by name with a stable, index-friendly order. */
export const sortKey = (name: string) => name.normalize('NFKD').toLowerCase();

/** Lower-cased words of letters and digits: the one tokeniser for stored documents and `q`, so both databases match alike. */
/** Words one search may have: each is a prefix match, so their number bounds the query's cost. */
export const SEARCH_MAX_WORDS = 10;

export function searchTokens(text: string): string[] {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

const PHONE_QUERY = /^[+\d\s().\-/]*\d[+\d\s().\-/]*$/;

/**
 * The words of a `q`. A phone number as people type it ("0412 345 678") is one word, its
 * digits: documents hold a number's digits as one word, so its groups would match nothing
 * (and "0412"* alone matches every number of a range).
 */
export function queryTokens(q: string): string[] {
  return PHONE_QUERY.test(q.trim()) ? [q.replace(/\D/g, '')] : searchTokens(q);
}

/**
 * The words `q` searches: names, nickname, company, every email and every number's digits, both
 * international and as typed, so "0412 345 678" finds +61412345678.
 */
export function searchDocument(c: StoredNames): string {
  const fields = [c.display_name, c.first_name, c.middle_name, c.last_name, c.company, c.nickname, c.email];
  fields.push(...(c.other_emails ?? []));
  for (const number of [c.phone, c.phone_raw, ...(c.other_phones ?? [])])
    if (number) fields.push(number.replace(/\D/g, ''));
  return [...new Set(fields.filter(Boolean).flatMap((f) => searchTokens(f!)))].join(' ');
}
