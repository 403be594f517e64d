import {
  CUSTOM_LIMITS,
  displayName,
  type ContactInput,
  type CustomAttributes,
  type CustomValue,
  type ExternalIds,
  CONTACT_FIELDS,
  CONTACT_LIST_FIELDS,
} from '../contact.js';
import { ADDRESS_PARTS, type ContactDate, type PostalAddress } from '../contact-details.js';
import { invalid } from '../errors.js';
import { ANNIVERSARY, BIRTHDAY, dateLabelOf, dateOf, labelOf } from './details.js';
import type { FieldWarning } from '../warnings.js';

/** One record as a reader yields it: column name (or, for vCard, canonical field name) → cell. */
export type SourceRecord = Record<string, CustomValue>;

/**
 * One data row as a reader yields it. `row` counts data rows from 1 (a CSV header is not one),
 * `line` is the line of the file it starts on, `raw` its text, for error reports.
 */
export type SourceRow =
  | { row: number; line: number; raw: string; record: SourceRecord; warnings?: FieldWarning[] }
  | { row: number; line: number; raw: string; error: string };

/**
 * The contact fields a column can fill; `external_id` is the id an import matches on
 * (external_ids.import unless the import names another key); `groups` the names of groups the
 * contact is in (Google's "Group Membership", Outlook's "Categories", Roster's own exports); a
 * list field (`phones`...) takes a JSON list in the API's shape, as Roster's CSV export writes it.
 */
const FIELDS = [...CONTACT_FIELDS, ...CONTACT_LIST_FIELDS, 'external_id', 'groups'] as const;
export type Field = (typeof FIELDS)[number];
type ListField = (typeof CONTACT_LIST_FIELDS)[number];
/** The fields one column fills with one text. */
type TextField = Exclude<Field, ListField | 'phone' | 'email'>;

/** What an explicit mapping may send a column to. */
export type Target = Field | `custom:${string}` | `external_id:${string}` | 'ignore';

export interface MappingOptions {
  /** Header → target, overriding the automatic mapping; headers match as written, else ignoring case, spaces and punctuation. */
  mapping?: Record<string, Target>;
  /** Columns nothing maps: kept as custom attributes (default) or dropped. */
  unmapped?: 'custom' | 'drop';
}

export type ImportedContact = ContactInput & { external_id?: string; groups?: string[] };

/** Google's "Phone 1 - Type" and "Phone 1 - Label" beside a "Phone 1 - Value": the value's label. */
type LabelColumns = [string, string];

type Column =
  | {
      kind: 'field';
      field: TextField;
      /** Lower wins when several columns fill one field: an explicit mapping beats an automatic one. */
      rank: number;
      /** Where the value goes when another column's wins; none when unmapped columns are dropped. */
      spare?: string;
      /** A header whose column, when the record has it, makes this one mean something else (Outlook's "Title" is a name prefix beside its "Job Title"). */
      unless?: string;
    }
  /** A number, email address or link: every one is kept, each with its column's label. */
  | {
      kind: 'entry';
      list: 'phones' | 'emails' | 'urls';
      rank: number;
      label: string | null;
      labels?: LabelColumns;
    }
  /** A part of a postal address; the columns of one `group` make one address. */
  | {
      kind: 'address';
      group: string;
      part: AddressPart | 'formatted';
      label: string | null;
      labels?: LabelColumns;
    }
  | { kind: 'date'; label: string | null; labels?: LabelColumns }
  /** Thunderbird's birthday in three columns. */
  | { kind: 'date_part'; part: 'year' | 'month' | 'day' }
  | { kind: 'list_json'; list: ListField }
  | { kind: 'custom'; key: string }
  | { kind: 'custom_json' }
  | { kind: 'external'; key: string }
  | { kind: 'ignore' };

type AddressPart = (typeof ADDRESS_PARTS)[number];

/** The file marks the entry primary (vCard PREF, Google's "* " before a type, the API's `primary`). */
const PRIMARY = -1;
const EXPLICIT = 0;
const MOBILE = 1;
const GENERAL = 2;
const OTHER = 3;

const squeeze = (header: string) => header.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/** Common headers, and those of Google Contacts, Outlook and Thunderbird exports, by their squeezed form ("E-mail Address" → "emailaddress"). */
const TEXT_COLUMNS = new Map<string, TextField>(
  (
    [
      ['name', 'name fullname displayname contactname'],
      ['first_name', 'firstname givenname first forename'],
      ['middle_name', 'middlename additionalname middle'],
      ['last_name', 'lastname familyname surname last'],
      [
        'company',
        'company companyname organisation organization organisationname organizationname org business employer',
      ],
      ['title', 'title jobtitle organizationtitle position'],
      ['department', 'department organizationdepartment dept'],
      ['nickname', 'nickname nick'],
      ['notes', 'notes note comments'],
      ['channel', 'channel preferredchannel'],
      ['language', 'language lang locale preferredlanguage'],
      ['avatar_url', 'avatar avatarurl photo photourl picture'],
      ['external_id', 'externalid id contactid legacyid'],
      ['groups', 'groups group groupmembership categories labels'],
    ] as const
  ).flatMap(([field, names]) => names.split(' ').map((n) => [n, field] as [string, TextField])),
);

/** Number, email and link columns: [list, rank, label, squeezed headers]. */
const ENTRY_COLUMNS = new Map<string, [ListField & ('phones' | 'emails' | 'urls'), number, string | null]>(
  (
    [
      [
        'phones',
        MOBILE,
        'mobile',
        'mobile mobilephone mobilenumber cell cellphone cellular msisdn whatsapp whatsappnumber',
      ],
      ['phones', GENERAL, null, 'phone phonenumber telephone telephonenumber tel number primaryphone'],
      ['phones', OTHER, 'work', 'businessphone businessphone2 workphone'],
      ['phones', OTHER, 'home', 'homephone homephone2'],
      ['phones', OTHER, 'main', 'companymainphone'],
      ['phones', OTHER, 'fax', 'fax faxnumber businessfax homefax otherfax'],
      ['phones', OTHER, 'pager', 'pager pagernumber'],
      ['phones', OTHER, 'other', 'otherphone'],
      ['phones', OTHER, 'car', 'carphone'],
      ['emails', GENERAL, null, 'email emailaddress mail primaryemail'],
      ['emails', OTHER, null, 'email2address email3address secondaryemail'],
      ['urls', GENERAL, null, 'url website webpage homepage'],
      ['urls', GENERAL, 'work', 'webpage1 businesswebpage'],
      ['urls', GENERAL, 'home', 'webpage2 personalwebpage'],
    ] as const
  ).flatMap(([list, rank, label, names]) =>
    names.split(' ').map((n) => [n, [list, rank, label]] as [string, [typeof list, number, string | null]]),
  ),
);

/** Address columns: Outlook's "Business Street", Thunderbird's "Home ZipCode", a plain "City". */
const ADDRESS_PART_WORDS: Record<string, AddressPart> = {
  street: 'street',
  street2: 'street',
  street3: 'street',
  address: 'street',
  address2: 'street',
  city: 'locality',
  state: 'region',
  region: 'region',
  postalcode: 'postal_code',
  zipcode: 'postal_code',
  zip: 'postal_code',
  postcode: 'postal_code',
  country: 'country',
  countryregion: 'country',
  pobox: 'po_box',
  extendedaddress: 'extended',
};
const ADDRESS_HEADER =
  /^(business|home|work|other|)(street[23]?|address2?|city|state|region|postalcode|zipcode|zip|postcode|country|countryregion|pobox)$/;
const ADDRESS_LABELS: Record<string, string | null> = {
  business: 'work',
  work: 'work',
  home: 'home',
  other: 'other',
  '': null,
};

const DATE_COLUMNS = new Map<string, string>([
  ['birthday', BIRTHDAY],
  ['birthdate', BIRTHDAY],
  ['dateofbirth', BIRTHDAY],
  ['dob', BIRTHDAY],
  ['anniversary', ANNIVERSARY],
]);

const LIST_COLUMNS = new Set<string>(CONTACT_LIST_FIELDS);

const CUSTOM_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

/** A header as a custom attribute key: A-Z a-z 0-9 _ . - up to 64 characters, accents dropped ("Téléphone 2" → "Telephone_2"). */
export function customKeyOf(header: string): string {
  const key = header
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/^[^A-Za-z0-9_.-]+|[^A-Za-z0-9_.-]+$/g, '')
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .slice(0, CUSTOM_LIMITS.maxKeyLength);
  if (key) return key;
  // A header in another script keeps a key of its own, so two such columns never collide.
  const codes = [...header].map((c) => c.codePointAt(0)!.toString(16)).join('_');
  return codes ? `u${codes}`.slice(0, CUSTOM_LIMITS.maxKeyLength) : 'column';
}

/**
 * Google numbers its repeated columns ("Phone 2 - Value", "Address 1 - City", "Event 1 - Type"):
 * a value's label is in the "- Type" (older) or "- Label" (newer) column of the same number.
 */
const GOOGLE_COLUMN =
  /^(phone|email|website|event|address|organization)(\d+)(value|type|label|name|title|department|street|city|pobox|region|postalcode|country|extendedaddress|formatted)$/;

function googleColumn(header: string, squeezed: string, spare: string | undefined): Column | undefined {
  const match = GOOGLE_COLUMN.exec(squeezed);
  if (!match) return undefined;
  const [, kind, n, what] = match as unknown as [string, string, string, string];
  const base = header.slice(0, header.search(/\s*-\s*[^-]*$/));
  const labels: LabelColumns = [`${base} - Type`, `${base} - Label`];
  if (what === 'type' || what === 'label') return kind === 'organization' ? undefined : { kind: 'ignore' };
  if (kind === 'organization') {
    const field = ({ name: 'company', title: 'title', department: 'department' } as const)[what as 'name'];
    return field ? { kind: 'field', field, rank: GENERAL, spare } : undefined;
  }
  if (kind === 'address')
    return what === 'value'
      ? undefined
      : {
          kind: 'address',
          group: `address${n}`,
          part: what === 'formatted' ? 'formatted' : ADDRESS_PART_WORDS[what]!,
          label: null,
          labels,
        };
  if (what !== 'value') return undefined;
  if (kind === 'event') return { kind: 'date', label: null, labels };
  const list = ({ phone: 'phones', email: 'emails', website: 'urls' } as const)[kind as 'phone'];
  return { kind: 'entry', list, rank: GENERAL, label: null, labels };
}

/** What the automatic rules make of a header. */
function automaticColumn(header: string, spare: string | undefined): Column | undefined {
  const lower = header.toLowerCase();
  if (lower.startsWith('custom.') && header.length > 7)
    return { kind: 'custom', key: customKeyOf(header.slice(7)) };
  if (lower.startsWith('external_ids.') && header.length > 13)
    return { kind: 'external', key: customKeyOf(header.slice(13)) };
  const squeezed = squeeze(header);
  if (squeezed === 'custom') return { kind: 'custom_json' };
  if (LIST_COLUMNS.has(squeezed)) return { kind: 'list_json', list: squeezed as ListField };
  const text = TEXT_COLUMNS.get(squeezed);
  if (text)
    return {
      kind: 'field',
      field: text,
      rank: GENERAL,
      spare,
      ...(squeezed === 'title' && { unless: 'jobtitle' }),
    };
  const entry = ENTRY_COLUMNS.get(squeezed);
  if (entry) return { kind: 'entry', list: entry[0], rank: entry[1], label: entry[2] };
  const date = DATE_COLUMNS.get(squeezed);
  if (date) return { kind: 'date', label: date };
  if (squeezed === 'birthyear' || squeezed === 'birthmonth')
    return { kind: 'date_part', part: squeezed === 'birthyear' ? 'year' : 'month' };
  const address = ADDRESS_HEADER.exec(squeezed);
  if (address)
    return {
      kind: 'address',
      group: address[1]!,
      part: ADDRESS_PART_WORDS[address[2]!]!,
      label: ADDRESS_LABELS[address[1]!]!,
    };
  return googleColumn(header, squeezed, spare);
}

/** An explicit mapping's target as a column; a target that names nothing is refused before any row is read. */
function explicitColumn(header: string, target: string, spare?: string): Column {
  if (target === 'ignore') return { kind: 'ignore' };
  if (target === 'phone' || target === 'email')
    return { kind: 'entry', list: `${target}s`, rank: EXPLICIT, label: null };
  if (LIST_COLUMNS.has(target)) return { kind: 'list_json', list: target as ListField };
  if ((FIELDS as readonly string[]).includes(target))
    return { kind: 'field', field: target as TextField, rank: EXPLICIT, spare };
  const colon = target.indexOf(':');
  const key = target.slice(colon + 1);
  if (CUSTOM_KEY.test(key)) {
    if (target.startsWith('custom:')) return { kind: 'custom', key };
    if (target.startsWith('external_id:')) return { kind: 'external', key };
  }
  throw invalid(
    `mapping.${header}`,
    `must be one of ${FIELDS.join(', ')}, ignore, custom:<key> or external_id:<key> (keys of 1-64 A-Z a-z 0-9 _ . -)`,
  );
}

/** Decides once per header what it fills, checking the explicit mapping up front. */
function planner(options: MappingOptions): (header: string) => Column {
  const exact = new Map<string, string>();
  const loose = new Map<string, string>();
  for (const [header, target] of Object.entries(options.mapping ?? {})) {
    explicitColumn(header, target);
    exact.set(header, target);
    loose.set(squeeze(header), target);
  }
  const keep = options.unmapped !== 'drop';
  const planned = new Map<string, Column>();
  return (header) => {
    let column = planned.get(header);
    if (column) return column;
    const spare = keep ? customKeyOf(header) : undefined;
    const target = exact.get(header) ?? loose.get(squeeze(header));
    column =
      target !== undefined
        ? explicitColumn(header, target, spare)
        : (automaticColumn(header, spare) ?? (spare ? { kind: 'custom', key: spare } : { kind: 'ignore' }));
    planned.set(header, column);
    return column;
  };
}

/** The separator of several values in one cell, as Google writes them. */
const MULTI_VALUE = /\s*:::\s*/;
const splitValues = (text: string) => text.split(MULTI_VALUE).filter((v) => v !== '');

/** A text field's value as the contact takes it. */
function fieldValue(field: TextField, value: CustomValue, header: string): string {
  const text = String(value);
  // Outlook's "Categories" puts ";" between them.
  if (field === 'groups' && squeeze(header) === 'categories') return text.replaceAll(';', ' ::: ');
  if (field === 'channel') return text.toLowerCase();
  return text;
}

/** A scalar JSON object's entries as custom attributes: Roster's CSV export keeps them in one `custom` column. */
function customFromJson(text: string): CustomAttributes | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const custom: CustomAttributes = {};
  for (const [key, value] of Object.entries(parsed))
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      custom[key] = value;
  return custom;
}

/** A number, email address or link of a record, with how strongly it claims to be the primary one. */
interface Entry {
  value: string;
  label: string | null;
  rank: number;
}

/** A record's numbers, addresses, dates and links, gathered from its columns. */
class Details {
  readonly phones: Entry[] = [];
  readonly emails: Entry[] = [];
  readonly urls: Entry[] = [];
  /** Postal addresses by column group ("business", "address1"): each part's cells, in column order. */
  readonly addressGroups = new Map<
    string,
    { label: string | null; parts: Map<AddressPart | 'formatted', string[]> }
  >();
  readonly addresses: PostalAddress[] = [];
  readonly dates: ContactDate[] = [];
  readonly birth: Partial<Record<'year' | 'month' | 'day', string>> = {};
}

/** The label a "- Type"/"- Label" column gives a value; Google marks the primary one with "* ". */
function labelCell(
  record: SourceRecord,
  labels: LabelColumns | undefined,
): { label: string | null; primary: boolean } {
  const cell = labels && (record[labels[0]] ?? record[labels[1]]);
  const text = typeof cell === 'string' ? cell.trim() : '';
  const primary = text.startsWith('* ');
  return { label: labelOf(primary ? text.slice(2) : text), primary };
}

const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : undefined);

/**
 * A list cell in the API's shape, as Roster's CSV and JSON Lines exports write it (`phones`:
 * `[{"number":...,"label":...,"primary":true}]`), its labels kept exactly; a cell that is not JSON
 * holds values " ::: " apart. False when the cell holds nothing of the list.
 */
function readListCell(list: ListField, cell: string, d: Details): boolean {
  let items: unknown;
  try {
    items = JSON.parse(cell);
  } catch {
    items = undefined;
  }
  if (!Array.isArray(items)) {
    if (list === 'addresses' || list === 'dates') return false;
    items = splitValues(cell);
  }
  for (const item of items as unknown[]) {
    const entry =
      typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : { value: item };
    const label = text(entry.label) ?? null;
    if (list === 'addresses') {
      const address: PostalAddress = label === null ? {} : { label };
      for (const part of ADDRESS_PARTS) if (text(entry[part])) address[part] = entry[part] as string;
      d.addresses.push(address);
    } else if (list === 'dates') {
      const date = text(entry.date) && dateOf(entry.date as string);
      if (date) d.dates.push({ label: label ?? 'other', date });
    } else {
      // A number an import kept unread has no `number`, only its `raw` text.
      const value =
        text(entry.value) ??
        text(entry[list === 'phones' ? 'number' : list === 'emails' ? 'address' : 'url']) ??
        text(entry.raw);
      if (value === undefined) continue;
      const rank = entry.primary === true ? PRIMARY : label === 'mobile' ? MOBILE : GENERAL;
      d[list].push({ value, label, rank });
    }
  }
  return true;
}

/** A record's date column: a date, or Thunderbird's "Birth Day" beside its "Birth Month". */
function readDate(
  column: Extract<Column, { kind: 'date' }>,
  value: string,
  record: SourceRecord,
  d: Details,
) {
  if (column.label === BIRTHDAY && /^\d{1,2}$/.test(value)) {
    d.birth.day = value;
    return;
  }
  const label = column.label ?? dateLabelOf(labelCell(record, column.labels).label);
  for (const each of splitValues(value)) {
    const date = dateOf(each);
    if (date) d.dates.push({ label, date });
  }
}

/** The primary entry first (the best rank, the first of equals), each value once with the first label it was given. */
function ordered(entries: Entry[]): Entry[] {
  const byValue = new Map<string, Entry>();
  for (const e of entries) {
    const held = byValue.get(e.value);
    if (!held) byValue.set(e.value, { ...e });
    else {
      held.label ??= e.label;
      held.rank = Math.min(held.rank, e.rank);
    }
  }
  const list = [...byValue.values()];
  const primary = list.reduce((best, e) => (e.rank < best.rank ? e : best), list[0]!);
  return [primary, ...list.filter((e) => e !== primary)];
}

/** Each group's addresses: Google puts several of one type in its cells, " ::: " apart; Outlook's Street 2 and 3 are more lines of the street. */
function groupAddresses(d: Details): PostalAddress[] {
  const out: PostalAddress[] = [];
  for (const { label, parts } of d.addressGroups.values()) {
    const split = new Map([...parts].map(([part, cells]) => [part, cells.map(splitValues)]));
    const count = Math.max(...[...split.values()].flat().map((values) => values.length));
    for (let i = 0; i < count; i++) {
      const address: PostalAddress = label === null ? {} : { label };
      for (const [part, cells] of split) {
        const value = cells
          .map((values) => values[i])
          .filter(Boolean)
          .join('\n');
        if (value && part !== 'formatted') address[part] = value;
      }
      // A formatted address alone is kept whole as its street.
      const formatted = split.get('formatted')?.[0]?.[i];
      if (formatted && ADDRESS_PARTS.every((part) => !address[part])) address.street = formatted;
      if (ADDRESS_PARTS.some((part) => address[part])) out.push(address);
    }
  }
  return out;
}

/**
 * A record's numbers (or email addresses): the one value when it is alone and unlabelled, as
 * `phone` takes it; else the list, primary first, as `phones` takes it (never both, which would
 * read the primary twice).
 */
function primaryAndList<K extends 'number' | 'address'>(entries: Entry[], key: K) {
  if (entries.length === 0) return undefined;
  const list = ordered(entries);
  if (list.length === 1 && !list[0]!.label) return list[0]!.value;
  return list.map((e) => ({ [key]: e.value, ...(e.label && { label: e.label }) }) as Record<K, string>);
}

/** The details gathered, as contact fields. */
function putDetails(d: Details, contact: ImportedContact): void {
  const phones = primaryAndList(d.phones, 'number');
  if (typeof phones === 'string') contact.phone = phones;
  else if (phones) contact.phones = phones;
  const emails = primaryAndList(d.emails, 'address');
  if (typeof emails === 'string') contact.email = emails;
  else if (emails) contact.emails = emails;
  const addresses = [...groupAddresses(d), ...d.addresses];
  if (addresses.length > 0) contact.addresses = addresses;
  const { year, month, day } = d.birth;
  if (month && day)
    d.dates.unshift({
      label: BIRTHDAY,
      date: `${year ? year.padStart(4, '0') : '-'}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`,
    });
  if (d.dates.length > 0) contact.dates = d.dates;
  if (d.urls.length > 0)
    contact.urls = d.urls.map((u) => (u.label ? { url: u.value, label: u.label } : { url: u.value }));
}

/**
 * Builds the function that turns records into contact inputs. Empty cells are absent; phones
 * are left as written, for the contacts service to read in the organisation's country. Every
 * number, email address, postal address, date and link of a record is kept with its column's
 * label; the primary number is the one the file marks, else an explicitly mapped one, else a
 * mobile, else the first. When several columns fill one text field, the best-ranked non-empty one
 * wins (an explicit mapping, then the first), and the others are kept like unmapped columns.
 * A name the other fields would display anyway is left out, so a re-imported export does not
 * pin a display name the contact never had.
 */
export function createMapper(options: MappingOptions = {}): (record: SourceRecord) => ImportedContact {
  const columnOf = planner(options);
  return (record) => {
    const fields: Partial<Record<TextField, string>> = {};
    const ranks: Partial<Record<TextField, number>> = {};
    const spares: Partial<Record<TextField, string | undefined>> = {};
    let custom: CustomAttributes | undefined;
    let external: ExternalIds | undefined;
    let d: Details | undefined;
    const toCustom = (key: string | undefined, value: CustomValue) => {
      if (key) (custom ??= {})[key] = value;
    };
    for (const header in record) {
      const cell = record[header]!;
      const value = typeof cell === 'string' ? cell.trim() : cell;
      if (value === '') continue;
      const column = columnOf(header);
      switch (column.kind) {
        case 'field': {
          if (column.unless && Object.keys(record).some((h) => squeeze(h) === column.unless)) {
            toCustom(column.spare, value);
            break;
          }
          const held = ranks[column.field];
          if (held !== undefined && held <= column.rank) {
            toCustom(column.spare, value);
            break;
          }
          if (held !== undefined) toCustom(spares[column.field], fields[column.field]!);
          fields[column.field] = fieldValue(column.field, value, header);
          ranks[column.field] = column.rank;
          spares[column.field] = column.spare;
          break;
        }
        case 'entry': {
          const given = labelCell(record, column.labels);
          const label = column.label ?? given.label;
          const rank = given.primary
            ? PRIMARY
            : label === 'mobile'
              ? Math.min(column.rank, MOBILE)
              : column.rank;
          for (const each of splitValues(String(value)))
            (d ??= new Details())[column.list].push({ value: each, label, rank });
          break;
        }
        case 'address': {
          d ??= new Details();
          let group = d.addressGroups.get(column.group);
          if (!group)
            d.addressGroups.set(
              column.group,
              (group = { label: column.label ?? labelCell(record, column.labels).label, parts: new Map() }),
            );
          const cells = group.parts.get(column.part);
          if (cells) cells.push(String(value));
          else group.parts.set(column.part, [String(value)]);
          break;
        }
        case 'date':
          readDate(column, String(value), record, (d ??= new Details()));
          break;
        case 'date_part':
          (d ??= new Details()).birth[column.part] = String(value);
          break;
        case 'list_json':
          if (!readListCell(column.list, String(value), (d ??= new Details())))
            toCustom(customKeyOf(header), value);
          break;
        case 'custom':
          toCustom(column.key, value);
          break;
        case 'external':
          (external ??= {})[column.key] = String(value);
          break;
        case 'custom_json': {
          const parsed = customFromJson(String(value));
          if (parsed) custom = Object.assign(custom ?? {}, parsed);
          else toCustom('custom', value);
          break;
        }
      }
    }
    return contactOf(fields, d, custom, external);
  };
}

/**
 * Group names of a cell, without Google's system groups ("* myContacts", "* starred"), which are
 * its own labels, not groups a person made.
 */
export function groupNames(cell: string): string[] {
  const names = cell.split(MULTI_VALUE).map((name) => name.trim());
  return [...new Set(names.filter((name) => name !== '' && !name.startsWith('* ')))];
}

function contactOf(
  fields: Partial<Record<TextField, string>>,
  details: Details | undefined,
  custom: CustomAttributes | undefined,
  external: ExternalIds | undefined,
): ImportedContact {
  const contact: ImportedContact = {};
  for (const field in fields)
    if (field !== 'name' && field !== 'groups')
      (contact as Record<string, string>)[field] = fields[field as TextField]!;
  if (details) putDetails(details, contact);
  const groups = fields.groups === undefined ? [] : groupNames(fields.groups);
  if (groups.length > 0) contact.groups = groups;
  if (custom) contact.custom = custom;
  if (external) contact.external_ids = external;
  if (fields.name !== undefined && fields.name !== displayName(contact)) contact.name = fields.name;
  return contact;
}
