import {
  CUSTOM_LIMITS,
  displayName,
  type ContactInput,
  type CustomAttributes,
  type CustomValue,
  type ExternalIds,
  CONTACT_FIELDS,
} from '../contact.js';
import { invalid } from '../errors.js';
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
 * contact is in (Google's "Group Membership", Outlook's "Categories", Roster's own exports).
 */
const FIELDS = [...CONTACT_FIELDS, 'external_id', 'groups'] as const;
export type Field = (typeof FIELDS)[number];

/** What an explicit mapping may send a column to. */
export type Target = Field | `custom:${string}` | `external_id:${string}` | 'ignore';

export interface MappingOptions {
  /** Header → target, overriding the automatic mapping; headers match as written, else ignoring case, spaces and punctuation. */
  mapping?: Record<string, Target>;
  /** Columns nothing maps: kept as custom attributes (default) or dropped. */
  unmapped?: 'custom' | 'drop';
}

export type ImportedContact = ContactInput & { external_id?: string; groups?: string[] };

type Column =
  | {
      kind: 'field';
      field: Field;
      /** Lower wins when several columns fill one field: a mobile number beats a home one. */
      rank: number;
      /** Google's "Phone 1 - Label"/"Type" beside a "Phone 1 - Value": "Mobile" there makes the number a mobile one. */
      labels?: [string, string];
      /** Where the value goes when another column's wins; none when unmapped columns are dropped. */
      spare?: string;
    }
  | { kind: 'custom'; key: string }
  | { kind: 'custom_json' }
  | { kind: 'external'; key: string }
  | { kind: 'ignore' };

const EXPLICIT = 0;
const MOBILE = 1;
const GENERAL = 2;
const OTHER = 3;

const squeeze = (header: string) => header.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/**
 * Common headers, and those of Google Contacts and Outlook exports, by their squeezed form
 * ("E-mail Address" → "emailaddress"), with their rank.
 */
const AUTOMATIC = new Map<string, [Field, number]>(
  (
    [
      ['name', GENERAL, 'name fullname displayname contactname'],
      ['first_name', GENERAL, 'firstname givenname first forename'],
      ['middle_name', GENERAL, 'middlename additionalname middle'],
      ['last_name', GENERAL, 'lastname familyname surname last'],
      [
        'company',
        GENERAL,
        'company companyname organisation organization organisationname organizationname org business employer',
      ],
      [
        'phone',
        MOBILE,
        'mobile mobilephone mobilenumber cell cellphone cellular msisdn whatsapp whatsappnumber',
      ],
      ['phone', GENERAL, 'phone phonenumber telephone telephonenumber tel number primaryphone'],
      [
        'phone',
        OTHER,
        'businessphone businessphone2 homephone homephone2 workphone otherphone companymainphone carphone',
      ],
      ['email', GENERAL, 'email emailaddress mail primaryemail'],
      ['email', OTHER, 'email2address email3address'],
      ['channel', GENERAL, 'channel preferredchannel'],
      ['language', GENERAL, 'language lang locale preferredlanguage'],
      ['avatar_url', GENERAL, 'avatar avatarurl photo photourl picture'],
      ['external_id', GENERAL, 'externalid id contactid legacyid'],
      ['groups', GENERAL, 'groups group groupmembership categories labels'],
    ] as const
  ).flatMap(([field, rank, names]) =>
    names.split(' ').map((n) => [n, [field, rank]] as [string, [Field, number]]),
  ),
);

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

/** What the automatic rules make of a header. */
function automaticColumn(header: string, spare: string | undefined): Column | undefined {
  const lower = header.toLowerCase();
  if (lower.startsWith('custom.') && header.length > 7)
    return { kind: 'custom', key: customKeyOf(header.slice(7)) };
  if (lower.startsWith('external_ids.') && header.length > 13)
    return { kind: 'external', key: customKeyOf(header.slice(13)) };
  const squeezed = squeeze(header);
  if (squeezed === 'custom') return { kind: 'custom_json' };
  const known = AUTOMATIC.get(squeezed);
  if (known) return { kind: 'field', field: known[0], rank: known[1], spare };
  // Google numbers its repeated columns: "Phone 2 - Value", "E-mail 1 - Value", "Organization 1 - Name".
  if (/^organization\d+name$/.test(squeezed))
    return { kind: 'field', field: 'company', rank: GENERAL, spare };
  if (/^email\d+value$/.test(squeezed)) return { kind: 'field', field: 'email', rank: GENERAL, spare };
  if (!/^phone\d+value$/.test(squeezed)) return undefined;
  const base = header.replace(/value\s*$/i, '');
  return { kind: 'field', field: 'phone', rank: GENERAL, labels: [`${base}Label`, `${base}Type`], spare };
}

/** An explicit mapping's target as a column; a target that names nothing is refused before any row is read. */
function explicitColumn(header: string, target: string, spare?: string): Column {
  if (target === 'ignore') return { kind: 'ignore' };
  if ((FIELDS as readonly string[]).includes(target))
    return { kind: 'field', field: target as Field, rank: EXPLICIT, spare };
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

const MOBILE_LABEL = /mobile|cell|whatsapp/i;

function rankOf(column: Extract<Column, { kind: 'field' }>, record: SourceRecord): number {
  if (!column.labels) return column.rank;
  const label = record[column.labels[0]] ?? record[column.labels[1]];
  return typeof label === 'string' && MOBILE_LABEL.test(label) ? MOBILE : column.rank;
}

/** A field's text as the contact takes it: Google puts several numbers or addresses in one cell, " ::: " between them. */
function fieldValue(field: Field, value: CustomValue, header: string): string {
  const text = String(value);
  // Outlook's "Categories" puts ";" between them.
  if (field === 'groups' && squeeze(header) === 'categories') return text.replaceAll(';', ' ::: ');
  if (field === 'channel') return text.toLowerCase();
  if (field !== 'phone' && field !== 'email') return text;
  const split = text.indexOf(' ::: ');
  return split < 0 ? text : text.slice(0, split);
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

/**
 * Builds the function that turns records into contact inputs. Empty cells are absent; phones
 * are left as written, for the contacts service to read in the organisation's country. When
 * several columns fill one field, the best-ranked non-empty one wins (an explicit mapping,
 * then a mobile number, then the first), and the others are kept like unmapped columns.
 * A name the other fields would display anyway is left out, so a re-imported export does not
 * pin a display name the contact never had.
 */
export function createMapper(options: MappingOptions = {}): (record: SourceRecord) => ImportedContact {
  const columnOf = planner(options);
  return (record) => {
    const fields: Partial<Record<Field, string>> = {};
    const ranks: Partial<Record<Field, number>> = {};
    const spares: Partial<Record<Field, string | undefined>> = {};
    let custom: CustomAttributes | undefined;
    let external: ExternalIds | undefined;
    for (const header in record) {
      const cell = record[header]!;
      const value = typeof cell === 'string' ? cell.trim() : cell;
      if (value === '') continue;
      const column = columnOf(header);
      if (column.kind === 'field') {
        const rank = rankOf(column, record);
        const held = ranks[column.field];
        if (held !== undefined && held <= rank) {
          if (column.spare) (custom ??= {})[column.spare] = value;
          continue;
        }
        const displaced = spares[column.field];
        if (held !== undefined && displaced) (custom ??= {})[displaced] = fields[column.field]!;
        fields[column.field] = fieldValue(column.field, value, header);
        ranks[column.field] = rank;
        spares[column.field] = column.spare;
      } else if (column.kind === 'custom') (custom ??= {})[column.key] = value;
      else if (column.kind === 'external') (external ??= {})[column.key] = String(value);
      else if (column.kind === 'custom_json') {
        const parsed = customFromJson(String(value));
        if (parsed) custom = Object.assign(custom ?? {}, parsed);
        else (custom ??= {}).custom = value;
      }
    }
    return contactOf(fields, custom, external);
  };
}

/** The separator of several values in one cell, as Google writes them. */
const MULTI_VALUE = /\s*:::\s*/;

/**
 * Group names of a cell, without Google's system groups ("* myContacts", "* starred"), which are
 * its own labels, not groups a person made.
 */
export function groupNames(cell: string): string[] {
  const names = cell.split(MULTI_VALUE).map((name) => name.trim());
  return [...new Set(names.filter((name) => name !== '' && !name.startsWith('* ')))];
}

function contactOf(
  fields: Partial<Record<Field, string>>,
  custom: CustomAttributes | undefined,
  external: ExternalIds | undefined,
): ImportedContact {
  const contact: ImportedContact = {};
  for (const field of FIELDS)
    if (field !== 'name' && field !== 'groups' && fields[field] !== undefined)
      (contact as Record<string, string>)[field] = fields[field];
  const groups = fields.groups === undefined ? [] : groupNames(fields.groups);
  if (groups.length > 0) contact.groups = groups;
  if (custom) contact.custom = custom;
  if (external) contact.external_ids = external;
  if (fields.name !== undefined && fields.name !== displayName(contact)) contact.name = fields.name;
  return contact;
}
