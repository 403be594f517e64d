import {
  CHANNELS,
  displayName,
  type Channel,
  type Consent,
  type ConsentEntry,
  type ContactInput,
  type CustomAttributes,
  type ExternalIds,
} from './contact.js';
import { ADDRESS_PARTS, eachOnce } from './contact-details.js';
import { invalid } from './errors.js';

/** The fields a merge lets the caller choose the winner of; `name` is the name and its parts together. */
export const MERGE_FIELDS = [
  'name',
  'company',
  'phone',
  'email',
  'channel',
  'avatar_url',
  'language',
  'title',
  'department',
  'nickname',
  'notes',
  'user_id',
  'extensions',
] as const;
export type MergeField = (typeof MERGE_FIELDS)[number];

/** At most this many contacts merged into one in one call. */
export const MERGE_MAX_IDS = 50;

/** A contact as a merge reads it: its id, its writable fields and its consent. */
export interface MergeSide {
  id: string;
  input: ContactInput;
  consent: Consent;
}

export interface MergeResult {
  input: ContactInput;
  consent: Consent;
  /** Which contact each field's value came from (fields no contact has are left out). */
  fields: Partial<Record<MergeField, string>>;
  /** Which contact each channel's consent came from. */
  consentFrom: Partial<Record<Channel, string>>;
}

const NAME_PARTS = ['name', 'first_name', 'middle_name', 'last_name'] as const;

/** A contact's own name: not a display name standing in for its company, address or number. */
const hasName = (c: ContactInput) =>
  Boolean(c.first_name || c.middle_name || c.last_name) ||
  Boolean(c.name && ![c.company, c.email, c.phone].includes(c.name));

const hasValue = (c: ContactInput, field: MergeField) =>
  field === 'name' ? hasName(c) : c[field] !== null && c[field] !== undefined && c[field] !== '';

/**
 * The merged contact: the survivor (first) and the others in the order given. Each field takes
 * the chosen contact's value, else the first non-empty one; custom attributes and external ids
 * are united key by key, earlier contacts winning a key both have; consent per channel is the
 * most protective (mostProtective).
 */
export function mergeContacts(
  sides: MergeSide[],
  chosen: Partial<Record<MergeField, string>> = {},
): MergeResult {
  for (const [field, id] of Object.entries(chosen)) {
    if (!(MERGE_FIELDS as readonly string[]).includes(field))
      throw invalid(`fields.${field}`, 'is not a field a merge chooses');
    if (!sides.some((s) => s.id === id))
      throw invalid(`fields.${field}`, 'is not one of the merged contacts');
  }
  const input: ContactInput = {};
  const fields: MergeResult['fields'] = {};
  for (const field of MERGE_FIELDS) {
    const winner = chosen[field]
      ? sides.find((s) => s.id === chosen[field])!
      : sides.find((s) => hasValue(s.input, field));
    if (!winner) continue;
    if (hasValue(winner.input, field)) fields[field] = winner.id;
    if (field !== 'name') {
      (input as Record<string, unknown>)[field] = winner.input[field] ?? null;
      continue;
    }
    for (const part of NAME_PARTS) input[part] = winner.input[part] ?? null;
    // A display name derived from its parts is derived again, from the merged contact's.
    if (winner.input.name === displayName({ ...winner.input, name: null })) delete input.name;
  }
  // Every number and address, postal address, date and link of every contact, the survivor's
  // first, each once; the chosen phone and email stay primary.
  input.phones = union(
    sides.map((s) => s.input.phones ?? []),
    (p) => p.number,
  );
  input.emails = union(
    sides.map((s) => s.input.emails ?? []),
    (e) => e.address,
  );
  input.addresses = union(
    sides.map((s) => s.input.addresses ?? []),
    (a) => JSON.stringify(ADDRESS_PARTS.map((part) => a[part]?.trim() || null)),
  );
  input.dates = union(
    sides.map((s) => s.input.dates ?? []),
    (d) => `${d.label}\n${d.date}`,
  );
  input.urls = union(
    sides.map((s) => s.input.urls ?? []),
    (u) => u.url,
  );
  input.custom = unite<CustomAttributes[string]>(sides.map((s) => s.input.custom ?? {}));
  input.external_ids = unite<ExternalIds[string]>(sides.map((s) => s.input.external_ids ?? {}));
  const { consent, from } = mostProtective(sides);
  return { input, consent, fields, consentFrom: from };
}

/** The entries of every list in order, each value once (the first entry holding it). */
const union = <T>(lists: readonly (readonly T[])[], valueOf: (t: T) => string): T[] =>
  eachOnce(lists.flat(), valueOf);

function unite<V>(records: Record<string, V>[]): Record<string, V> {
  const united: Record<string, V> = {};
  for (const record of records)
    for (const [key, value] of Object.entries(record)) if (!(key in united)) united[key] = value;
  return united;
}

/**
 * Per channel, an unsubscribe anywhere wins (the latest, if several); else a subscription (the
 * earliest contact's). The entry keeps its time and source, so the merged contact still says
 * when and how the person gave or withdrew consent; `from` names the contact it came from.
 */
export function mostProtective(sides: Pick<MergeSide, 'id' | 'consent'>[]): {
  consent: Consent;
  from: Partial<Record<Channel, string>>;
} {
  const consent: Consent = {};
  const from: Partial<Record<Channel, string>> = {};
  for (const channel of CHANNELS) {
    let best: { entry: ConsentEntry; id: string } | undefined;
    for (const side of sides) {
      const entry = side.consent[channel];
      if (!entry) continue;
      if (!best || protects(entry, best.entry)) best = { entry, id: side.id };
    }
    if (best) {
      consent[channel] = best.entry;
      from[channel] = best.id;
    }
  }
  return { consent, from };
}

/** Does `entry` protect more than `current`? */
function protects(entry: ConsentEntry, current: ConsentEntry): boolean {
  if (entry.status !== current.status) return entry.status === 'unsubscribed';
  return entry.status === 'unsubscribed' && Date.parse(entry.at) > Date.parse(current.at);
}
