import type { Contact } from './api';

/*
 * A contact's details in words, the one way every page (the contact's, the compare page, a merge's preview, the
 * "changed by someone else" notice) shows them.
 */
export type Phone = Contact['phones'][number];
export type Email = Contact['emails'][number];
export type Address = Contact['addresses'][number];
export type ContactDate = Contact['dates'][number];
export type Link = Contact['urls'][number];

/** The labels an address book offers for each kind of entry; any other words are a custom label. */
export const LABELS = {
  phone: ['mobile', 'home', 'work', 'main', 'fax', 'pager', 'other'],
  email: ['home', 'work', 'other'],
  address: ['home', 'work', 'other'],
  date: ['birthday', 'anniversary'],
  url: ['homepage', 'work', 'profile', 'blog', 'other'],
} as const;

export const capitalised = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
const labelled = (text: string, label: string | null | undefined) =>
  label ? `${capitalised(label)}: ${text}` : text;

export const MONTHS = Array.from({ length: 12 }, (_, m) =>
  new Date(Date.UTC(2000, m, 1)).toLocaleString(undefined, { month: 'long', timeZone: 'UTC' }),
);

/** A stored date's parts: YYYY-MM-DD, or --MM-DD without a year (year ''). */
export function dateParts(date: string): { year: string; month: string; day: string } {
  const [year = '', month = '', day = ''] = date.startsWith('--')
    ? ['', ...date.slice(2).split('-')]
    : date.split('-');
  return { year, month, day };
}

/** A stored date as people write it: "12 March 1990", "12 March". */
export function dateWords(date: string): string {
  const { year, month, day } = dateParts(date);
  return [Number(day), MONTHS[Number(month) - 1] ?? month, year].filter(Boolean).join(' ');
}

/** A number as stored, with its label, and what is wrong with it: read but not valid, or not read at all. */
export function phoneWords(p: Phone): string {
  const state = p.number === null ? ' (not read, kept as written)' : p.valid ? '' : ' (not valid)';
  return labelled(`${p.number ?? p.raw}${state}${p.primary ? ' · primary' : ''}`, p.label);
}

export const emailWords = (e: Email) => labelled(`${e.address}${e.primary ? ' · primary' : ''}`, e.label);

export function addressWords(a: Address): string {
  const lines = [
    a.po_box && `PO Box ${a.po_box}`,
    a.extended,
    a.street,
    [a.locality, a.region, a.postal_code].filter(Boolean).join(' '),
    a.country,
  ];
  return labelled(lines.filter(Boolean).join(', '), a.label);
}

export const dateLine = (d: ContactDate) => labelled(dateWords(d.date), d.label);
export const linkWords = (u: Link) => labelled(u.url, u.label);

/** The words of each entry of a contact's lists, by the list's field name (as the history names it too). */
export const LIST_WORDS = {
  phones: phoneWords,
  emails: emailWords,
  addresses: addressWords,
  dates: dateLine,
  urls: linkWords,
} as const;

/** Whether a contact's numbers or emails say more than its primary one (phone, email) alone: several, or labelled. */
const beyondPrimary = (list: readonly { label: string | null }[]) =>
  list.length > 1 || list.some((e) => e.label);

/**
 * The details of a contact beyond the fields a merge chooses, each as the lines it shows (none: not shown), and,
 * for the lists whose primary entry a page shows already, whether they add to it.
 */
export const DETAIL_ROWS: [string, (c: Contact) => string[], ((c: Contact) => boolean)?][] = [
  ['Title', (c) => (c.title ? [c.title] : [])],
  ['Department', (c) => (c.department ? [c.department] : [])],
  ['Nickname', (c) => (c.nickname ? [c.nickname] : [])],
  ['Phone numbers', (c) => c.phones.map(phoneWords), (c) => beyondPrimary(c.phones)],
  ['Email addresses', (c) => c.emails.map(emailWords), (c) => beyondPrimary(c.emails)],
  ['Addresses', (c) => c.addresses.map(addressWords)],
  ['Dates', (c) => c.dates.map(dateLine)],
  ['Links', (c) => c.urls.map(linkWords)],
  ['Notes', (c) => (c.notes ? [c.notes] : [])],
];
