import type { ExternalIds } from './contact.js';

/**
 * What makes two contacts likely the same person: each rule gives a contact keys, and contacts
 * sharing a key are candidates. Computed here once, for every writer of contacts (the data
 * layer stores them, src/db/repositories/duplicate-keys.ts) and every reader of candidates.
 */
export const DUPLICATE_KINDS = [
  'external_id',
  'email',
  'phone',
  'name_company',
  'name_email_domain',
] as const;
export type DuplicateKind = (typeof DUPLICATE_KINDS)[number];

export interface DuplicateKey {
  kind: DuplicateKind;
  value: string;
}

/**
 * How strongly one shared key says "the same person": an id another system gave, an address
 * or a number are personal; a name is not, less so with only an email domain beside it.
 */
export const KIND_WEIGHT: Record<DuplicateKind, number> = {
  external_id: 0.95,
  email: 0.9,
  phone: 0.9,
  name_company: 0.75,
  name_email_domain: 0.6,
};

/** What the rules read of a contact: lists of numbers and addresses, so more of each per contact can come. */
export interface DuplicateSource {
  display_name: string;
  first_name: string | null;
  middle_name: string | null;
  last_name: string | null;
  company: string | null;
  /** E.164 numbers. */
  phones: readonly string[];
  /** Normalised (lower-cased) addresses. */
  emails: string[];
  external_ids: ExternalIds;
}

/**
 * One spelling of a number for the variants a country's renumbering left behind:
 * - Brazil (+55): mobiles gained a ninth digit, a 9 after the area code (2012-2016), and both
 *   spellings are still in address books: +55 AA 9XXXXXXXX reads as +55 AA XXXXXXXX.
 * - Mexico (+52): mobiles were dialled from abroad with a 1 after +52 until 2019:
 *   +52 1 XXXXXXXXXX reads as +52 XXXXXXXXXX.
 * libphonenumber-js tells neither (it reads the eight-digit Brazilian form as merely possible,
 * and does not read the Mexican form at all), so the rule is on the digits.
 */
export function phoneKey(e164: string): string {
  const brazil = /^\+55(\d{2})9(\d{8})$/.exec(e164);
  if (brazil) return `+55${brazil[1]}${brazil[2]}`;
  const mexico = /^\+521(\d{10})$/.exec(e164);
  if (mexico) return `+52${mexico[1]}`;
  return e164;
}

/** A name or company as people vary it: case, accents, punctuation and spacing do not count. */
export function normaliseName(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** The contact's own name: none when its display name only stands in for a company, an address or a number. */
function personName(c: DuplicateSource): string {
  const parts = [c.first_name, c.middle_name, c.last_name].filter(Boolean).join(' ');
  if (parts) return normaliseName(parts);
  const standIns = [c.company, ...c.emails, ...c.phones];
  return standIns.includes(c.display_name) ? '' : normaliseName(c.display_name);
}

/** Every duplicate key of a contact, each once. */
export function duplicateKeys(c: DuplicateSource): DuplicateKey[] {
  const keys: DuplicateKey[] = [];
  for (const [system, id] of Object.entries(c.external_ids))
    keys.push({ kind: 'external_id', value: JSON.stringify([system, id]) });
  for (const email of c.emails) keys.push({ kind: 'email', value: email.toLowerCase() });
  for (const phone of c.phones) keys.push({ kind: 'phone', value: phoneKey(phone) });
  const name = personName(c);
  if (name) {
    const company = c.company ? normaliseName(c.company) : '';
    if (company) keys.push({ kind: 'name_company', value: `${name}|${company}` });
    for (const email of c.emails)
      keys.push({ kind: 'name_email_domain', value: `${name}|${email.slice(email.lastIndexOf('@') + 1)}` });
  }
  const seen = new Set<string>();
  return keys.filter((k) => {
    const id = `${k.kind}\n${k.value}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** The score of a candidate set from the kinds of key all its contacts share: independent evidence adds up. */
export function duplicateScore(kinds: Iterable<DuplicateKind>): number {
  let apart = 1;
  for (const kind of new Set(kinds)) apart *= 1 - KIND_WEIGHT[kind];
  return Math.round((1 - apart) * 100) / 100;
}
