import type { CustomAttributes, CustomValue } from '../contact.js';
import type { Contact } from '../records.js';
import { CONTACT_FIELDS, CONTACT_LIST_FIELDS } from '../contact.js';
import { ADDRESS_PARTS, type ContactPhone } from '../contact-details.js';
import { ANNIVERSARY, BIRTHDAY, vcardDate, vcardTypeOf } from './details.js';
import type { ImportFormat } from './detect.js';

export type ExportFormat = ImportFormat;

/** What an export writes of a contact: its fields as records show them (phone in E.164, so the file reads back the
 * same whatever the importing organisation's country), and the names of its groups. */
export type ExportedContact = Pick<
  Contact,
  | 'id'
  | 'name'
  | 'first_name'
  | 'middle_name'
  | 'last_name'
  | 'company'
  | 'phone'
  | 'email'
  | 'channel'
  | 'language'
  | 'avatar_url'
  | 'title'
  | 'department'
  | 'nickname'
  | 'notes'
  | 'phones'
  | 'emails'
  | 'addresses'
  | 'dates'
  | 'urls'
  | 'custom'
  | 'external_ids'
> & { groups: string[] };

/*
 * Every export reads back through readContacts to the same contact: CSV headers and JSON keys
 * are the field names mapping.ts maps automatically (`id` comes back as the import's external
 * id), and vCard uses standard properties plus Roster's own:
 *   X-ROSTER-ID:<id>                       the contact's id, read back as the external id
 *   X-ROSTER-CHANNEL:<channel>
 *   X-ROSTER-EXTERNAL-ID;KEY=<key>:<id>    one per external id
 *   X-ROSTER-CUSTOM;KEY=<key>[;VALUE=integer|float|boolean]:<value>
 * Custom attributes go in a KEY parameter, not the property name, because property names are
 * case-insensitive and allow no "_" or ".", both of which custom keys may hold; VALUE keeps
 * numbers and booleans typed. Groups are written as JSON Lines' `groups`, vCard's CATEGORIES and
 * CSV's `groups` column (names " ::: " apart, as Google writes them), and read back as memberships.
 * Numbers, email addresses, postal addresses, dates and links are the API's lists in JSON Lines,
 * JSON cells in CSV (exact, and shown as text by spreadsheets), and standard properties in vCard,
 * a label of the address book's own in an X-ABLabel of the property's group, as Apple writes it.
 */

const COLUMNS = ['id', ...CONTACT_FIELDS] as const;

/** A cell a spreadsheet would run as a formula (OWASP's CSV injection list). */
const FORMULA_START = /^[=+\-@\t\r]/;
/**
 * A sign followed only by digits and phone punctuation: with no letters there is no function,
 * reference or DDE call to run, so the cell is left as it is. This keeps E.164 numbers
 * (+61412345678) and negative numbers intact for every program that reads the file.
 */
const INERT = /^[+-][\d ()./-]*$/;
const LOOKS_ESCAPED = /^'+[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** The first characters FORMULA_START and LOOKS_ESCAPED look for: any other is neither, which most cells show at once. */
const MAY_ESCAPE = new Set([..."=+-@\t\r'"].map((char) => char.charCodeAt(0)));

/** One CSV cell: formula-like text gets a leading apostrophe (csv-reader.ts takes it off again), then RFC 4180 quoting. */
function csvCell(value: string): string {
  if (value === '') return value;
  // A cell that already looks escaped ("'-.") gets an apostrophe too, so the reader's taking one off gives it back.
  const escaped =
    MAY_ESCAPE.has(value.charCodeAt(0)) &&
    ((FORMULA_START.test(value) && !INERT.test(value)) || LOOKS_ESCAPED.test(value));
  const safe = escaped ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const csvLine = (cells: string[]) => cells.map(csvCell).join(',') + '\r\n';

/**
 * The header row. Custom attributes named in `customKeys` get a `custom.<key>` column each, for
 * spreadsheets; the rest, and all of them when none are named (a streamed export cannot know
 * every key before its first row), go in one `custom` column as a JSON object, which also keeps
 * their types.
 */
function csvHeader(customKeys: readonly string[]): string {
  return csvLine([
    ...COLUMNS,
    ...CONTACT_LIST_FIELDS,
    ...customKeys.map((key) => `custom.${key}`),
    'custom',
    'groups',
  ]);
}

/** A number or address list says more than the `phone`/`email` column when it holds another entry, a label or a number kept unread. */
const saysMore = (list: readonly { label: string | null; number?: string | null }[]) =>
  list.length > 1 || list.some((e) => e.label !== null || e.number === null);

/** A list field's JSON text; empty when the plain columns say it all. */
function listText(c: ExportedContact, field: (typeof CONTACT_LIST_FIELDS)[number]): string {
  const list = c[field];
  const shown = field === 'phones' || field === 'emails' ? saysMore(list as ContactPhone[]) : list.length > 0;
  return shown ? JSON.stringify(list) : '';
}

/**
 * One line of cells joined once (csvLine), a flat string. Built with `+=`, a row stayed a tree of
 * its ~60 pieces until the export's chunk was written, outlived the young generation's collections
 * with it, and garbage collection was half of a CSV export's time.
 */
function csvRow(c: ExportedContact, customKeys: readonly string[]): string {
  const values: string[] = [];
  for (const column of COLUMNS) values.push(c[column] ?? '');
  for (const field of CONTACT_LIST_FIELDS) values.push(listText(c, field));
  for (const key of customKeys) values.push(Object.hasOwn(c.custom, key) ? String(c.custom[key]) : '');
  let rest: CustomAttributes | undefined;
  for (const key in c.custom) {
    if (customKeys.length === 0) {
      rest = c.custom;
      break;
    }
    if (!customKeys.includes(key)) (rest ??= {})[key] = c.custom[key]!;
  }
  values.push(rest ? JSON.stringify(rest) : '', c.groups.join(' ::: '));
  return csvLine(values);
}

/** vCard text: backslash, comma and semicolon escaped, and any line break as \n (most values have none of them). */
const vcardText = (value: string) =>
  VCARD_SPECIAL.test(value) ? value.replace(/[\\,;]/g, '\\$&').replace(/\r\n|\r|\n/g, '\\n') : value;
const VCARD_SPECIAL = /[\\,;\r\n]/;

/** A parameter value, quoted when it holds more than a custom key may; a double quote as RFC 6868's ^'. */
const vcardParam = (value: string) =>
  /^[A-Za-z0-9_.-]+$/.test(value)
    ? value
    : `"${value.replace(/\^/g, '^^').replace(/"/g, "^'").replace(/\n/g, '^n')}"`;

/** The VALUE parameter that keeps a custom attribute's type; text needs none. */
function valueType(value: CustomValue): string {
  if (typeof value === 'boolean') return ';VALUE=boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? ';VALUE=integer' : ';VALUE=float';
  return '';
}

/** RFC 6350 lines are at most 75 octets: longer ones continue on lines beginning with a space, never inside a character. */
function fold(line: string): string {
  if (Buffer.byteLength(line) <= 75) return line;
  const parts: string[] = [];
  let part = '';
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char);
    if (octets + size > (parts.length === 0 ? 75 : 74)) {
      parts.push(part);
      part = '';
      octets = 0;
    }
    part += char;
    octets += size;
  }
  parts.push(part);
  return parts.join('\r\n ');
}

/**
 * A labelled property: a known label as its TYPE, the address book's own in an X-ABLabel of an
 * item group (`item1.TEL` ... `item1.X-ABLabel:Grandma`), as Apple writes them.
 */
function labelled(
  lines: string[],
  item: { n: number },
  property: { name: string; label: string | null; params?: string; value: string },
): void {
  const type = vcardTypeOf(property.label);
  const params = (type ? `;TYPE=${type}` : '') + (property.params ?? '');
  if (property.label === null || type) {
    lines.push(`${property.name}${params}:${property.value}`);
    return;
  }
  const group = `item${++item.n}`;
  lines.push(
    `${group}.${property.name}${params}:${property.value}`,
    `${group}.X-ABLabel:${vcardText(property.label)}`,
  );
}

function vcard(c: ExportedContact): string {
  const lines = [
    'BEGIN:VCARD',
    'VERSION:4.0',
    `FN:${vcardText(c.name)}`,
    `N:${[c.last_name, c.first_name, c.middle_name, '', ''].map((part) => vcardText(part ?? '')).join(';')}`,
  ];
  const item = { n: 0 };
  // PREF=1 marks the primary entry where there are several.
  const pref = (primary: boolean, count: number) => (primary && count > 1 ? ';PREF=1' : '');
  for (const p of c.phones) {
    const uri = p.number !== null && /^\+\d+$/.test(p.number);
    labelled(lines, item, {
      name: 'TEL',
      label: p.label,
      params: (uri ? ';VALUE=uri' : '') + pref(p.primary, c.phones.length),
      value: uri ? `tel:${p.number}` : vcardText(p.number ?? p.raw),
    });
  }
  for (const e of c.emails)
    labelled(lines, item, {
      name: 'EMAIL',
      label: e.label,
      params: pref(e.primary, c.emails.length),
      value: vcardText(e.address),
    });
  if (c.company || c.department)
    lines.push(`ORG:${vcardText(c.company ?? '')}${c.department ? `;${vcardText(c.department)}` : ''}`);
  if (c.title) lines.push(`TITLE:${vcardText(c.title)}`);
  if (c.nickname) lines.push(`NICKNAME:${vcardText(c.nickname)}`);
  for (const a of c.addresses)
    labelled(lines, item, {
      name: 'ADR',
      label: a.label ?? null,
      value: ADDRESS_PARTS.map((part) => vcardText(a[part] ?? '')).join(';'),
    });
  // vCard has one BDAY and one ANNIVERSARY; other dates, and a second of either, are Apple's X-ABDATE.
  const own = new Set<string>();
  for (const d of c.dates) {
    const name = d.label === BIRTHDAY ? 'BDAY' : d.label === ANNIVERSARY ? 'ANNIVERSARY' : undefined;
    if (name && !own.has(name)) {
      own.add(name);
      lines.push(`${name}:${vcardDate(d.date)}`);
    } else {
      const group = `item${++item.n}`;
      // In the extended form Apple writes its own X-ABDATE in.
      lines.push(`${group}.X-ABDATE:${d.date}`, `${group}.X-ABLabel:${vcardText(d.label)}`);
    }
  }
  for (const u of c.urls)
    labelled(lines, item, { name: 'URL', label: u.label ?? null, value: vcardText(u.url) });
  if (c.notes) lines.push(`NOTE:${vcardText(c.notes)}`);
  if (c.language) lines.push(`LANG:${c.language}`);
  if (c.avatar_url) lines.push(`PHOTO:${c.avatar_url}`);
  if (c.groups.length > 0) lines.push(`CATEGORIES:${c.groups.map(vcardText).join(',')}`);
  lines.push(`X-ROSTER-ID:${c.id}`);
  if (c.channel) lines.push(`X-ROSTER-CHANNEL:${c.channel}`);
  for (const [key, value] of Object.entries(c.external_ids))
    lines.push(`X-ROSTER-EXTERNAL-ID;KEY=${vcardParam(key)}:${vcardText(value)}`);
  for (const [key, value] of Object.entries(c.custom))
    lines.push(`X-ROSTER-CUSTOM;KEY=${vcardParam(key)}${valueType(value)}:${vcardText(String(value))}`);
  lines.push('END:VCARD');
  return lines.map(fold).join('\r\n') + '\r\n';
}

/** A JSON line's keys, in order: the CSV columns and lists, then the two objects a CSV row flattens. */
const JSON_KEYS = [...COLUMNS, ...CONTACT_LIST_FIELDS, 'custom', 'external_ids'] as const;

/**
 * A JSON line's object, made by a function written once for JSON_KEYS: an object literal of one
 * fixed shape, where building it key by key (Object.fromEntries) was most of a JSON line's time.
 */
const jsonObject = new Function(
  'c',
  `return {${[...JSON_KEYS, 'groups'].map((key) => `${JSON.stringify(key)}: c[${JSON.stringify(key)}]`).join(', ')}}`,
) as (c: ExportedContact) => Partial<ExportedContact>;

const jsonLine = (c: ExportedContact) => JSON.stringify(jsonObject(c)) + '\n';

/**
 * What comes before the first contact: for CSV the header row, after a UTF-8 byte-order mark
 * when `bom` is set (Excel reads a CSV without one in the system's code page).
 */
export function exportHeader(format: ExportFormat, bom = false, customKeys: readonly string[] = []): string {
  if (format !== 'csv') return '';
  return (bom ? '\uFEFF' : '') + csvHeader(customKeys);
}

/** One contact; a CSV row takes the same `customKeys` as its header. */
export function exportRow(
  format: ExportFormat,
  contact: ExportedContact,
  customKeys: readonly string[] = [],
): string {
  if (format === 'csv') return csvRow(contact, customKeys);
  if (format === 'vcf') return vcard(contact);
  return jsonLine(contact);
}
