import type { Channel, Consent, CustomAttributes, Extensions, ExternalIds } from './contact.js';
import type {
  ContactDate,
  ContactEmail,
  ContactPhone,
  ContactUrl,
  PostalAddress,
} from './contact-details.js';
import type { Role } from './roles.js';

/** What an import did with its rows, as its job counts them. */
export interface ImportCounts {
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  /** Of the skipped, those that repeat an earlier row of the file (the rest match a contact that was already there). */
  skipped_in_file: number;
  failed: number;
}

/** Records as the services return them: timestamps are ISO 8601 strings, keys are the integer keys. */
export interface Organisation {
  key: number;
  id: string;
  name: string;
  default_country: string;
  default_language: string;
  allow_duplicate_phones: boolean;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface User {
  key: number;
  id: string;
  organisation_id: string;
  username: string;
  display_name: string;
  email: string | null;
  role: Role;
  is_active: boolean;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface Contact {
  key: number;
  id: string;
  organisation_id: string;
  name: string;
  first_name: string | null;
  middle_name: string | null;
  last_name: string | null;
  company: string | null;
  phone: string | null;
  phone_raw: string | null;
  phone_valid: boolean | null;
  email: string | null;
  channel: Channel | null;
  avatar_url: string | null;
  language: string | null;
  title: string | null;
  department: string | null;
  nickname: string | null;
  notes: string | null;
  /** Every number, the primary (`phone`) first. */
  phones: ContactPhone[];
  /** Every address, the primary (`email`) first. */
  emails: ContactEmail[];
  addresses: PostalAddress[];
  dates: ContactDate[];
  urls: ContactUrl[];
  custom: CustomAttributes;
  external_ids: ExternalIds;
  consent: Consent;
  extensions: Extensions;
  user_id: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  version: number;
}

/** A merge of contacts into one, and its undo. */
export interface Merge {
  id: string;
  /** The survivor. */
  contact_id: string;
  merged_ids: string[];
  /** Which contact each field's value came from. */
  fields: Partial<Record<string, string>>;
  /** Which contact each channel's consent came from. */
  consent_from: Partial<Record<Channel, string>>;
  /** Groups the survivor joined through the merge. */
  groups_added: string[];
  created_by: string | null;
  created_at: string;
  undone_at: string | null;
  /** After an undo: what it left as it was, and why. */
  not_undone: { contact_id: string; reason: string }[] | null;
}

/** What a list of members shows of a contact: who it is and how to reach it (no consent, custom fields or surface extensions). */
export type ContactCard = Pick<
  Contact,
  | 'key'
  | 'id'
  | 'name'
  | 'first_name'
  | 'middle_name'
  | 'last_name'
  | 'phone'
  | 'email'
  | 'avatar_url'
  | 'external_ids'
  | 'user_id'
  | 'created_at'
  | 'updated_at'
>;

export type Translations = Record<string, { name: string; description?: string | null }>;

export interface Group {
  key: number;
  id: string;
  organisation_id: string;
  name: string;
  description: string | null;
  translations: Translations;
  is_active: boolean;
  is_default: boolean;
  thumbnail_url: string | null;
  external_ids: ExternalIds;
  member_count: number;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  version: number;
}

export interface ApiKey {
  id: string;
  organisation_id: string;
  user_id: string;
  name: string;
  prefix: string;
  last_used_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

export const iso = (ms: number) => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
