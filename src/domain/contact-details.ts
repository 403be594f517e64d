import { invalid } from './errors.js';

/*
 * What address books hold of a person beyond a name and one way to reach them: several numbers
 * and addresses, each with a label, postal addresses, dates, links and notes. `phone` and `email`
 * stay the primary entries of `phones` and `emails`: the seed surfaces show only those.
 */

/** A number as a caller gives it: any format, read like `phone`. */
export interface PhoneInput {
  number: string;
  /** mobile, home, work, main, fax, pager, other, or the address book's own words ("Grandma"). */
  label?: string | null;
  primary?: boolean;
}

export interface EmailInput {
  address: string;
  label?: string | null;
  primary?: boolean;
}

/** A postal address, in vCard's parts (RFC 6350 ADR). */
export interface PostalAddress {
  label?: string | null;
  po_box?: string | null;
  extended?: string | null;
  street?: string | null;
  locality?: string | null;
  region?: string | null;
  postal_code?: string | null;
  country?: string | null;
}
export const ADDRESS_PARTS = [
  'po_box',
  'extended',
  'street',
  'locality',
  'region',
  'postal_code',
  'country',
] as const satisfies readonly (keyof PostalAddress)[];

/** An address as kept: its label and the parts it has, without the empty ones (null or ''), as a file writes it. */
export const keptAddress = (a: PostalAddress): PostalAddress =>
  Object.fromEntries(Object.entries(a).filter(([, value]) => value != null && value !== '')) as PostalAddress;

/** A day in a person's life: `birthday`, `anniversary` or the address book's own label. */
export interface ContactDate {
  label: string;
  /** YYYY-MM-DD, or --MM-DD when the year is not known (vCard 4's form). */
  date: string;
}

export interface ContactUrl {
  url: string;
  label?: string | null;
}

/** A number as stored and shown: read (E.164) or, for one an import could not read, kept as written. */
export interface ContactPhone {
  number: string | null;
  raw: string;
  valid: boolean;
  label: string | null;
  primary: boolean;
}

export interface ContactEmail {
  address: string;
  label: string | null;
  primary: boolean;
}

/** Limits of the detail fields, documented in docs/api.md. */
export const DETAIL_LIMITS = {
  phones: 20,
  emails: 20,
  addresses: 10,
  dates: 20,
  urls: 20,
  label: 64,
  addressPart: 200,
  street: 500,
  text: 200,
  notes: 20_000,
  url: 2048,
} as const;

export const DATE_PATTERN = '^(\\d{4}|-)-\\d{2}-\\d{2}$';
export const DATE_RULE = 'must be a date YYYY-MM-DD, or --MM-DD without a year';

/**
 * A list with `value` as its primary (first) entry: `phone`/`email` name the primary entry of
 * `phones`/`emails`, so a write of `phone` alone replaces the primary number and keeps the others,
 * and `phone: null` removes it (the next one becomes primary). An entry marked `primary` goes first.
 */
export function withPrimary<T>(
  list: readonly T[] | null | undefined,
  value: string | null | undefined,
  entry: { valueOf: (t: T) => string; isPrimary: (t: T) => boolean; make: (value: string, old?: T) => T },
): T[] {
  const entries = list ? firstAt(list, list.findIndex(entry.isPrimary)) : [];
  if (value === undefined) return entries;
  if (value === null) return entries.slice(1);
  const at = entries.findIndex((t) => entry.valueOf(t) === value);
  if (at >= 0) return firstAt(entries, at);
  return [entry.make(value, entries[0]), ...entries.slice(1)];
}

/** The list with its entry at `at` moved first (unchanged where `at` is 0 or -1). */
export const firstAt = <T>(list: readonly T[], at: number): T[] =>
  at > 0 ? [list[at]!, ...list.filter((_, i) => i !== at)] : [...list];

/** The first entry of each value, in order. */
export function eachOnce<T>(list: readonly T[], valueOf: (t: T) => string): T[] {
  const seen = new Set<string>();
  return list.filter((t) => !seen.has(valueOf(t)) && seen.add(valueOf(t)));
}

const NUL = '\0';

function checkText(field: string, value: unknown, max: number): void {
  if (value === null || value === undefined) return;
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (value.length > max) throw invalid(field, `must be at most ${max} characters`);
  if (value.includes(NUL)) throw invalid(field, 'must not contain a NUL character');
}

function checkList(field: string, list: readonly unknown[] | null | undefined, max: number): void {
  if (list === null || list === undefined) return;
  if (!Array.isArray(list)) throw invalid(field, 'must be a list');
  if (list.length > max) throw invalid(field, `may hold at most ${max} entries`);
}

/** Whether a date is a day of the calendar: YYYY-MM-DD, or --MM-DD (29 February allowed without a year). */
export function isContactDate(date: string): boolean {
  const match = /^(\d{4}|-)-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return false;
  const year = match[1] === '-' ? 2000 : Number(match[1]);
  const [month, day] = [Number(match[2]), Number(match[3])];
  const at = new Date(Date.UTC(year, month - 1, day));
  return at.getUTCMonth() === month - 1 && at.getUTCDate() === day && year >= 1;
}

/** The detail fields' rules; a failing entry is named by its place (`dates[1].date`), so an import can leave it out. */
export function validateDetails(input: {
  phones?: PhoneInput[] | null;
  emails?: EmailInput[] | null;
  addresses?: PostalAddress[] | null;
  dates?: ContactDate[] | null;
  urls?: ContactUrl[] | null;
  title?: string | null;
  department?: string | null;
  nickname?: string | null;
  notes?: string | null;
}): void {
  for (const field of ['title', 'department', 'nickname'] as const)
    checkText(field, input[field], DETAIL_LIMITS.text);
  checkText('notes', input.notes, DETAIL_LIMITS.notes);
  for (const [field, max] of [
    ['phones', DETAIL_LIMITS.phones],
    ['emails', DETAIL_LIMITS.emails],
    ['addresses', DETAIL_LIMITS.addresses],
    ['dates', DETAIL_LIMITS.dates],
    ['urls', DETAIL_LIMITS.urls],
  ] as const)
    checkList(field, input[field], max);
  const primaries = (list: readonly { primary?: boolean }[] | null | undefined) =>
    (list ?? []).filter((e) => e.primary === true).length;
  if (primaries(input.phones) > 1) throw invalid('phones', 'may mark only one number primary');
  if (primaries(input.emails) > 1) throw invalid('emails', 'may mark only one address primary');
  input.phones?.forEach((p, i) => checkText(`phones[${i}].label`, p.label, DETAIL_LIMITS.label));
  input.emails?.forEach((e, i) => checkText(`emails[${i}].label`, e.label, DETAIL_LIMITS.label));
  input.addresses?.forEach((a, i) => {
    checkText(`addresses[${i}].label`, a.label, DETAIL_LIMITS.label);
    for (const part of ADDRESS_PARTS)
      checkText(
        `addresses[${i}].${part}`,
        a[part],
        part === 'street' ? DETAIL_LIMITS.street : DETAIL_LIMITS.addressPart,
      );
    if (ADDRESS_PARTS.every((part) => !a[part]?.trim()))
      throw invalid(`addresses[${i}]`, 'must have at least one part');
  });
  input.dates?.forEach((d, i) => {
    checkText(`dates[${i}].label`, d.label, DETAIL_LIMITS.label);
    if (!d.label?.trim()) throw invalid(`dates[${i}].label`, 'must not be empty');
    if (typeof d.date !== 'string' || !isContactDate(d.date)) throw invalid(`dates[${i}].date`, DATE_RULE);
  });
  input.urls?.forEach((u, i) => {
    checkText(`urls[${i}].label`, u.label, DETAIL_LIMITS.label);
    checkText(`urls[${i}].url`, u.url, DETAIL_LIMITS.url);
    if (typeof u.url !== 'string' || !u.url.trim() || /\s/.test(u.url.trim()))
      throw invalid(`urls[${i}].url`, 'must be a link without spaces');
  });
}
