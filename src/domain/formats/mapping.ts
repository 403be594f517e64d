import type { ContactInput, CustomAttributes } from '../contact.js';

/** The contact fields a column can fill; `custom:<key>` and `ignore` are also accepted in explicit mappings. */
export const TARGETS = [
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
  'external_id',
  'custom_json',
] as const;
export type Target = (typeof TARGETS)[number] | `custom:${string}` | 'ignore';

export interface MappingOptions {
  /** Header → target, overriding the automatic mapping. */
  mapping?: Record<string, Target>;
  /** What to do with columns nothing maps: keep them as custom attributes (default) or drop them. */
  unmapped?: 'custom' | 'drop';
}

export type ImportedContact = ContactInput & { external_id?: string };

const key = (header: string) => header.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * Common headers, and those of Google Contacts and Outlook exports, by their squeezed form
 * ("E-mail 1 - Value" → "email1value"). Only the first phone and email fill the contact's own.
 */
const AUTOMATIC: Record<string, Target> = Object.fromEntries(
  Object.entries({
    name: ['name', 'fullname', 'displayname', 'contactname', 'fn'],
    first_name: ['firstname', 'givenname', 'first', 'forename'],
    middle_name: ['middlename', 'additionalname', 'middle'],
    last_name: ['lastname', 'familyname', 'surname', 'last'],
    company: [
      'company',
      'organisation',
      'organization',
      'org',
      'organization1name',
      'business',
      'companyname',
      'employer',
    ],
    phone: [
      'phone',
      'mobile',
      'mobilephone',
      'cell',
      'cellphone',
      'telephone',
      'tel',
      'phonenumber',
      'msisdn',
      'whatsapp',
      'number',
      'phone1value',
      'primaryphone',
      'businessphone',
      'homephone',
      'mobilenumber',
    ],
    email: ['email', 'emailaddress', 'mail', 'email1value', 'emailaddress1', 'primaryemail'],
    channel: ['channel', 'preferredchannel'],
    language: ['language', 'lang', 'locale'],
    avatar_url: ['avatar', 'avatarurl', 'photo', 'photourl'],
    external_id: ['externalid', 'id', 'contactid', 'legacyid'],
    custom_json: ['custom'],
  }).flatMap(([target, headers]) => headers.map((h) => [h, target as Target])),
);

/** Custom attribute keys are A-Z a-z 0-9 _ . - up to 64 characters. */
const customKey = (header: string) =>
  header
    .trim()
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64) || 'column';

/** Decides once per file what each header fills. */
export function planColumns(headers: string[], options: MappingOptions): (Target | undefined)[] {
  const taken = new Set<Target>();
  return headers.map((header): Target | undefined => {
    const explicit = options.mapping?.[header];
    if (explicit) return explicit;
    if (header.startsWith('custom.')) return `custom:${header.slice('custom.'.length)}`;
    const auto = AUTOMATIC[key(header)];
    // Outlook and Google export several phone and email columns: the first one wins, the others stay custom.
    if (auto && !taken.has(auto)) {
      taken.add(auto);
      return auto;
    }
    return options.unmapped === 'drop' ? undefined : `custom:${customKey(header)}`;
  });
}

/** Roster's own exports carry custom attributes as one JSON column; anything else there is kept as text. */
function parseCustom(value: string): CustomAttributes {
  try {
    const parsed = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as CustomAttributes;
  } catch {
    // not JSON: kept as text below
  }
  return { custom: value };
}

/** One record to a contact input by the plan; empty cells are absent. */
export function mapRecord(values: string[], plan: (Target | undefined)[]): ImportedContact {
  const contact: ImportedContact = {};
  let custom: CustomAttributes | undefined;
  for (let i = 0; i < plan.length; i++) {
    const target = plan[i];
    const value = values[i]?.trim();
    if (!target || target === 'ignore' || !value) continue;
    if (target.startsWith('custom:')) (custom ??= {})[target.slice(7)] = value;
    else if (target === 'custom_json') custom = { ...custom, ...parseCustom(value) };
    // Google joins several numbers in one cell with " ::: ".
    else if (target === 'phone') contact.phone = value.split(' ::: ')[0];
    else (contact as Record<string, string>)[target] = value;
  }
  if (custom) contact.custom = custom;
  return contact;
}
