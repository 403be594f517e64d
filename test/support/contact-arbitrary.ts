import fc from 'fast-check';
import type { ContactInput } from '../../src/domain/contact.js';
import { withPrimary, type EmailInput, type PhoneInput } from '../../src/domain/contact-details.js';

/** The numbers a contact input gives, primary first: what a client reads back as `phones`. */
export const phoneEntries = (input: { phone?: string | null; phones?: PhoneInput[] | null }) =>
  withPrimary(input.phones, input.phone, {
    valueOf: (p) => p.number,
    isPrimary: (p) => p.primary === true,
    make: (number, old) => ({ number, label: old?.label ?? null }),
  }).map(({ number, label }) => ({ number, label: label ?? null }));

/** The addresses a contact input gives, primary first: what a client reads back as `emails`. */
export const emailEntries = (input: { email?: string | null; emails?: EmailInput[] | null }) =>
  withPrimary(input.emails, input.email, {
    valueOf: (e) => e.address,
    isPrimary: (e) => e.primary === true,
    make: (address, old) => ({ address, label: old?.label ?? null }),
  }).map(({ address, label }) => ({ address, label: label ?? null }));

/** Text as people type it: several scripts, and the punctuation CSV and vCard must escape. */
export const text = fc
  .stringMatching(/^[\p{L}\p{N} ,;:"'\\.\-éøß😀дя中文ع]{1,24}$/u)
  .filter((t) => t.trim() === t && !t.includes(':::'));

/** Roster's own labels, an address book's own ones (any case, any script, punctuation), or none. */
const label = fc.constantFrom(
  'mobile',
  'home',
  'work',
  'main',
  'fax',
  'pager',
  'other',
  'Mobile',
  'Grandma',
  'Büro; "zwei", drei',
  '携帯',
);
const optionalLabel = fc.option(label, { nil: null });

const twoDigits = (n: number) => String(n).padStart(2, '0');
const date = fc
  .record({
    year: fc.option(fc.integer({ min: 1900, max: 2025 })),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
  })
  .map(({ year, month, day }) => `${year === null ? '-' : year}-${twoDigits(month)}-${twoDigits(day)}`);

const address = fc
  .record(
    {
      label,
      po_box: text,
      extended: text,
      street: fc.tuple(text, fc.option(text)).map(([a, b]) => (b === null ? a : `${a}\n${b}`)),
      locality: text,
      region: text,
      postal_code: text,
      country: text,
    },
    { requiredKeys: [] },
  )
  .filter((a) => Object.keys(a).some((key) => key !== 'label'));

/**
 * Contact `i` of a run, any contact Roster can hold: names in any script, several numbers with
 * labels (some kept unread, as imports keep a short code), emails, postal addresses, dates with and
 * without a year, links, notes over several lines, custom attributes and groups. Its numbers and
 * addresses are its own (`i` is in each), so no two contacts of a run are one person.
 */
export const anyContact = (i: number) =>
  fc
    .record(
      {
        first_name: text,
        last_name: text,
        company: text,
        title: text,
        department: text,
        nickname: text,
        notes: fc.array(text, { minLength: 1, maxLength: 3 }).map((lines) => lines.join('\n')),
        phones: fc.array(
          fc.record({
            unread: fc.boolean(),
            tail: fc.integer({ min: 0, max: 99_999 }),
            label: optionalLabel,
          }),
          {
            maxLength: 3,
          },
        ),
        emails: fc.array(optionalLabel, { maxLength: 2 }),
        addresses: fc.array(address, { maxLength: 2 }),
        dates: fc.array(
          fc.record({ label: fc.constantFrom('birthday', 'anniversary', 'Name day', 'other'), date }),
          {
            maxLength: 3,
          },
        ),
        urls: fc.array(fc.record({ url: fc.webUrl(), label }, { requiredKeys: ['url'] }), { maxLength: 2 }),
        channel: fc.constantFrom('sms', 'whatsapp', 'email', 'voice'),
        language: fc.constantFrom('en', 'fr', 'ja-JP'),
        custom: fc.dictionary(
          fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,15}$/),
          fc.oneof(text, fc.integer(), fc.boolean()),
          { maxKeys: 4 },
        ),
        groups: fc.uniqueArray(
          text.filter((t) => !t.startsWith('* ') && !t.includes(';')),
          { maxLength: 3 },
        ),
      },
      { requiredKeys: ['first_name'] },
    )
    .map(({ phones = [], emails = [], custom, groups = [], ...fields }) => ({
      input: {
        ...fields,
        // An AU mobile of its own, or a short code an import keeps unread.
        phones: phones.map((p, j) => ({
          number: p.unread ? `1${i}${j}` : `+6141${i}${j}${String(p.tail).padStart(5, '0')}`,
          label: p.label,
        })),
        emails: emails.map((l, j) => ({ address: `p${i}.${j}@example.com`, label: l })),
        ...(custom && Object.keys(custom).length > 0 && { custom }),
      } as ContactInput,
      groups,
    }));

/** What of a contact input a file carries: every field, the numbers and addresses in order, primary first, labels as given. */
export function comparable(c: ContactInput & { groups?: string[] }) {
  const {
    phone: _p,
    phones: _ps,
    email: _e,
    emails: _es,
    addresses,
    dates,
    urls,
    custom,
    groups,
    ...rest
  } = c;
  const present = <T extends object>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));
  return {
    ...present(rest),
    phones: phoneEntries(c),
    emails: emailEntries(c),
    addresses: (addresses ?? []).map(present),
    dates: dates ?? [],
    urls: (urls ?? []).map(present),
    custom: custom ?? {},
    groups: [...new Set(groups ?? [])],
  };
}
