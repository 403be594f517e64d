import type { Channel, ConsentStatus } from '../../domain/contact.js';
import { CHANNELS, CONTACT_FIELDS, CONTACT_LIST_FIELDS } from '../../domain/contact.js';
import { invalid } from '../../domain/errors.js';
import { checkEncoding } from '../../domain/formats/encoding.js';
import type { ImportFormat, Target } from '../../domain/formats/index.js';
import { isCountryCode } from '../../domain/phone.js';

/**
 * How each field of a matched contact takes the file's value; `add` (a list field's default)
 * adds the row's entries to the stored ones, so an upsert never loses a stored number or address.
 */
export type FieldPolicy = 'overwrite' | 'fill_empty' | 'keep' | 'add';
export const POLICY_FIELDS = [...CONTACT_FIELDS, ...CONTACT_LIST_FIELDS, 'custom'] as const;
export type PolicyField = (typeof POLICY_FIELDS)[number];
const LIST_FIELDS = new Set<string>(CONTACT_LIST_FIELDS);

/** A field's policy: as the import gives it, else `add` for a list field and `overwrite` for the rest. */
export const policyOf = (options: Pick<ImportOptions, 'fields'>, field: PolicyField): FieldPolicy =>
  options.fields[field] ?? (LIST_FIELDS.has(field) ? 'add' : 'overwrite');

export interface ImportOptions {
  format: ImportFormat;
  /** create: every row makes a contact; upsert: a row matching a contact (phone, then email) updates it; skip: leaves it. */
  mode: 'create' | 'upsert' | 'skip';
  /** What makes a row the same contact: its normalised phone, then email (default), or its external id. */
  match: 'phone_email' | 'external_id';
  /** The key under `external_ids` where a file's id column is kept and matched ("import" by default). */
  external_key: string;
  /** Existing groups the imported contacts join. */
  group_ids: string[];
  /** Groups by name, created on the fly when missing. */
  group_names: string[];
  /** Reads local-format numbers; the organisation's country when not given. */
  default_country?: string;
  dry_run: boolean;
  fields: Partial<Record<PolicyField, FieldPolicy>>;
  /** Consent to record for every imported contact; none is changed unless this is given. */
  consent?: Partial<Record<Channel, ConsentStatus>>;
  mapping?: Record<string, Target>;
  unmapped: 'custom' | 'drop';
  /** The file's text encoding, when it is not to be found from its bytes. */
  encoding?: string;
}

export function checkOptions(options: ImportOptions): ImportOptions {
  if (options.default_country !== undefined && !isCountryCode(options.default_country.toUpperCase())) {
    throw invalid('country', 'must be an ISO 3166-1 alpha-2 country code');
  }
  for (const [field, policy] of Object.entries(options.fields)) {
    if (!POLICY_FIELDS.includes(field as PolicyField))
      throw invalid(`fields.${field}`, `is not one of ${POLICY_FIELDS.join(', ')}`);
    const allowed = LIST_FIELDS.has(field) ? ['add', 'overwrite', 'fill_empty'] : ['overwrite', 'fill_empty'];
    if (![...allowed, 'keep'].includes(policy))
      throw invalid(`fields.${field}`, `must be ${allowed.join(', ')} or keep`);
  }
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(options.external_key))
    throw invalid('external_key', 'must be 1-64 characters of A-Z a-z 0-9 _ . -');
  for (const [channel, status] of Object.entries(options.consent ?? {})) {
    if (!CHANNELS.includes(channel as Channel) || !['subscribed', 'unsubscribed'].includes(status)) {
      throw invalid(`consent.${channel}`, 'must map a channel to subscribed or unsubscribed');
    }
  }
  if (options.encoding !== undefined) checkEncoding(options.encoding);
  return { ...options, default_country: options.default_country?.toUpperCase() };
}
