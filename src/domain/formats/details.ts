/*
 * What the readers and writers share about labels and dates: one table from the words address
 * books use for a kind of number, address or link to Roster's labels, and back to vCard TYPEs.
 */

/** The labels Roster names itself; any other label is the address book's own, kept as written. */
export const KNOWN_LABELS = ['mobile', 'home', 'work', 'main', 'fax', 'pager', 'other'] as const;

/** Words address books write for a kind (vCard TYPEs, Google's types, Apple's built-in labels), squeezed. */
const LABEL_WORDS: Record<string, (typeof KNOWN_LABELS)[number]> = {
  mobile: 'mobile',
  cell: 'mobile',
  cellular: 'mobile',
  iphone: 'mobile',
  home: 'home',
  work: 'work',
  business: 'work',
  main: 'main',
  fax: 'fax',
  homefax: 'fax',
  workfax: 'fax',
  otherfax: 'fax',
  pager: 'pager',
  other: 'other',
};

/** Apple's built-in labels: `_$!<Mobile>!$_`. */
const APPLE_LABEL = /^_\$!<(.*)>!\$_$/;

/**
 * A label as a file writes it, as Roster keeps it: a known kind in its one spelling ("Mobile",
 * "CELL", `_$!<Mobile>!$_` → mobile), any other text as written.
 */
export function labelOf(text: string | undefined | null): string | null {
  const trimmed = text?.trim();
  if (!trimmed) return null;
  const apple = APPLE_LABEL.exec(trimmed);
  const words = (apple ? apple[1]! : trimmed).toLowerCase().replace(/[^a-z]/g, '');
  return LABEL_WORDS[words] ?? (apple ? apple[1]! : trimmed);
}

/** A known label as a vCard TYPE; undefined for the address book's own ones (written as X-ABLabel). */
export function vcardTypeOf(label: string | null): string | undefined {
  if (label === null || !(KNOWN_LABELS as readonly string[]).includes(label)) return undefined;
  return label === 'mobile' ? 'cell' : label;
}

/** The date labels a vCard has properties of its own for. */
export const BIRTHDAY = 'birthday';
export const ANNIVERSARY = 'anniversary';

/**
 * A date as a file writes it, as Roster keeps it: YYYY-MM-DD, or --MM-DD without a year. Reads
 * vCard's forms (19850412, 1985-04-12, --0412, --04-12, with a time after), Outlook's m/d/yyyy
 * and d.m.yyyy; `omitYear` is the year Apple writes for "no year" (X-APPLE-OMIT-YEAR). Text it
 * cannot read comes back as written, for the contact's rules to leave out with a warning; Outlook's
 * empty date (0/0/00) is no date.
 */
export function dateOf(text: string, omitYear?: string): string | undefined {
  const value = text.trim().replace(/[T ].*$/, '');
  if (value === '' || /^0{1,2}\/0{1,2}\/0{2,4}$/.test(value)) return undefined;
  const pad = (n: string) => n.padStart(2, '0');
  let match = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(value);
  if (match)
    return match[1] === omitYear ? `--${match[2]}-${match[3]}` : `${match[1]}-${match[2]}-${match[3]}`;
  match = /^--(\d{2})-?(\d{2})$/.exec(value);
  if (match) return `--${match[1]}-${match[2]}`;
  match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value);
  if (match) return `${match[3]}-${pad(match[1]!)}-${pad(match[2]!)}`;
  match = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(value);
  if (match) return `${match[3]}-${pad(match[2]!)}-${pad(match[1]!)}`;
  return text.trim();
}

/** A date in vCard 4's basic form: 19850412, or --0412 without a year. */
export const vcardDate = (date: string) => date.replaceAll('-', '').replace(/^(?=\d{4}$)/, '--');

/** A date's label as a file writes it: birthday and anniversary in one spelling, other text as written. */
export function dateLabelOf(text: string | undefined | null): string {
  const label = labelOf(text);
  const lower = label?.toLowerCase();
  return lower === BIRTHDAY || lower === ANNIVERSARY ? lower : (label ?? 'other');
}

/** An X-ABLabel: Apple's built-in ones (`_$!<HomePage>!$_`) in Roster's spelling, a person's own text exactly. */
export const abLabelOf = (text: string, forDate = false) =>
  APPLE_LABEL.test(text.trim()) ? (forDate ? dateLabelOf(text) : labelOf(text)) : text;
