import type { ImportCounts } from '../domain/records.js';
import type { Generated } from 'kysely';

/**
 * The tables as Kysely sees them. Portable by construction: timestamps are epoch
 * milliseconds (bigint), booleans are 0/1 integers, UUIDs and JSON are text, so both
 * dialects read back the same JavaScript values and one migration set serves both.
 * Every tenant table carries organisation_id and every index leads with it.
 */
export interface OrganisationsTable {
  key: Generated<number>;
  id: string;
  name: string;
  default_country: string;
  default_language: string;
  allow_duplicate_phones: number;
  created_at: number;
  updated_at: number;
  version: number;
}

export interface UsersTable {
  key: Generated<number>;
  organisation_id: string;
  id: string;
  username: string;
  display_name: string;
  email: string | null;
  password_hash: string;
  role: string;
  is_active: number;
  /** Carried in every access token; bumping it revokes them all (0003_token_revocation). */
  token_generation: Generated<number>;
  created_at: number;
  updated_at: number;
  version: number;
}

export interface ApiKeysTable {
  key: Generated<number>;
  organisation_id: string;
  id: string;
  user_id: string;
  name: string;
  /** The first characters of the key, shown in lists so people can tell keys apart. */
  prefix: string;
  /** SHA-256 of the whole key: keys are 256-bit random, so a fast hash is safe. */
  secret_hash: string;
  last_used_at: number | null;
  revoked_at: number | null;
  created_at: number;
}

export interface RefreshTokensTable {
  organisation_id: string;
  id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  expires_at: number;
  revoked_at: number | null;
  created_at: number;
}

/** Sessions (refresh-token families) whose access tokens are refused before they expire. */
export interface RevokedSessionsTable {
  organisation_id: string;
  session_id: string;
  /** When the session's last access token expires: the row is useless after that. */
  expires_at: number;
}

export interface ContactsTable {
  key: Generated<number>;
  organisation_id: string;
  id: string;
  display_name: string;
  sort_name: string;
  first_name: string | null;
  middle_name: string | null;
  last_name: string | null;
  company: string | null;
  phone: string | null;
  phone_raw: string | null;
  phone_valid: number | null;
  /** phone while the organisation forbids duplicates, else null: the unique index's key. */
  phone_unique: string | null;
  email: string | null;
  channel: string | null;
  avatar_url: string | null;
  language: string | null;
  custom: string;
  external_ids: string;
  /** JSON: Extensions (domain/contact.ts), null when no surface keeps anything. */
  extensions: string | null;
  title: string | null;
  department: string | null;
  nickname: string | null;
  notes: string | null;
  /**
   * JSON lists (0017_contact_details), null when empty. `phones`: every number as
   * [{number, raw, valid, label}], primary first, null when the phone columns say all (one
   * number, no label); `emails` likewise [{address, label}]. addresses, dates, urls as the API shows them.
   */
  phones: string | null;
  emails: string | null;
  addresses: string | null;
  dates: string | null;
  urls: string | null;
  user_id: string | null;
  search_doc: string;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  version: number;
  /** The id of the contact this one was merged into (0010_duplicates); it is soft-deleted then. */
  merged_into: string | null;
}

/** A live contact's duplicate keys (src/domain/duplicates.ts), kept by the contacts repository. */
export interface DuplicateKeysTable {
  organisation_id: string;
  kind: string;
  value: string;
  contact_key: number;
}

/**
 * A contact's numbers (kind `phone`, E.164) and addresses (kind `email`) other than its primary
 * ones, a row each, live or deleted: kept by the contacts repository from its phones and emails.
 */
export interface ContactHandlesTable {
  organisation_id: string;
  contact_key: number;
  kind: 'phone' | 'email';
  value: string;
}

/** The key values two or more live contacts share: the candidate sets, one row each. */
export interface DuplicateSetsTable {
  organisation_id: string;
  kind: string;
  value: string;
}

/** A merge and what its undo puts back. */
export interface MergesTable {
  key: Generated<number>;
  organisation_id: string;
  id: string;
  survivor_key: number;
  /** JSON: the merged contacts' keys, in the order given. */
  merged_keys: string;
  /** JSON: every contact's row and consent before the merge. */
  before: string;
  /** JSON: the versions the merge left, the memberships it added, where each field and consent came from. */
  after: string;
  created_by: string | null;
  created_at: number;
  undone_at: number | null;
  /** JSON: what the undo could not put back, and why. */
  undo_report: string | null;
}

/**
 * PostgreSQL only: each word of a contact's search_doc, kept by triggers (migration 0005), so a
 * `q` prefix is an index range that row-level security lets the planner use. SQLite has FTS5.
 */
export interface ContactWordsTable {
  organisation_id: string;
  word: string;
  contact_key: number;
}

export interface ContactConsentTable {
  organisation_id: string;
  contact_key: number;
  channel: string;
  status: string;
  changed_at: number;
  source: string;
}

export interface GroupsTable {
  key: Generated<number>;
  organisation_id: string;
  id: string;
  name: string;
  description: string | null;
  translations: string;
  is_active: number;
  is_default: number;
  thumbnail_url: string | null;
  external_ids: string;
  member_count: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  version: number;
}

export interface MembershipsTable {
  organisation_id: string;
  group_key: number;
  contact_key: number;
  added_at: number;
  added_by: string | null;
  /** The contact's sort_name, kept by addMembers and a trigger on contacts (migration 0006). */
  sort_name: string;
}

export interface IdempotencyKeysTable {
  organisation_id: string;
  user_id: string;
  idempotency_key: string;
  request_hash: string;
  status_code: number | null;
  response_body: string | null;
  created_at: number;
}

export interface ImportJobsTable extends ImportCounts {
  key: Generated<number>;
  organisation_id: string;
  id: string;
  status: string;
  format: string;
  options: string;
  spool_path: string | null;
  bytes: number;
  rows_read: number;
  bytes_read: number;
  /** The last row number whose batch committed: where a resumed import continues. */
  last_row: number;
  error: string | null;
  /** What a rollback could not undo, as JSON. */
  rollback_report: string | null;
  /** The text encoding the file was read in, and whether it was given, found by a byte-order mark, or guessed (JSON). */
  encoding: string | null;
  /** The country most of the file's local numbers read better under than the one given, when there is one (JSON). */
  country_hint: string | null;
  created_by: string | null;
  started_at: number | null;
  finished_at: number | null;
  created_at: number;
  updated_at: number;
  /** The process running the job, and until when (src/db/leases.ts). */
  lease_owner: string | null;
  lease_expires_at: number | null;
}

/** A job adding every contact that matches a filter to a group (migration 0011). */
export interface MemberJobsTable {
  organisation_id: string;
  id: string;
  group_key: number;
  /** The contact filter, as JSON. */
  filter: string;
  status: string;
  matched: number;
  added: number;
  error: string | null;
  created_by: string | null;
  created_at: number;
  finished_at: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  /** The list's cursor after the last page added: where a job taken over goes on. */
  cursor: string | null;
}

export interface ImportErrorsTable {
  organisation_id: string;
  job_key: number;
  row_number: number;
  reason: string;
  raw: string;
}

/** What an import kept of a row but could not read as given: one row may have several. */
export interface ImportWarningsTable {
  organisation_id: string;
  job_key: number;
  row_number: number;
  /** The warning's place among its row's. */
  seq: number;
  kind: string;
  field: string;
  value: string;
  reason: string;
}

/** The undo log: what each imported row did, so the import can be rolled back. */
export interface ImportChangesTable {
  organisation_id: string;
  job_key: number;
  row_number: number;
  kind: 'created' | 'updated' | 'membership';
  contact_key: number;
  group_key: number | null;
  /** For 'updated': the changed columns' values before the import. */
  before: string | null;
  /** The contact's version right after the import touched it: a later change means hands off. */
  after_version: number | null;
}

/** The change log: one row per committed change, numbered per organisation in commit order. */
export interface ChangesTable {
  organisation_id: string;
  seq: number;
  type: string;
  resource_type: string;
  resource_id: string;
  version: number | null;
  user_id: string | null;
  credential_kind: string;
  credential_id: string | null;
  surface: string;
  occurred_at: number;
  /** JSON: changed fields, member ids or summary counts; null once the record was erased. */
  data: string | null;
}

/** An organisation's last sequence number, taken last by each committing writer; and how far the log was pruned. */
export interface ChangeCountersTable {
  organisation_id: string;
  seq: number;
  pruned_through: Generated<number>;
}

export interface WebhookEndpointsTable {
  organisation_id: string;
  id: string;
  url: string;
  description: string | null;
  /** JSON array of change types, or ["*"]. */
  events: string;
  enabled: number;
  disabled_reason: string | null;
  /** AES-256-GCM sealed (services/secrets.ts), never the secret itself. */
  secret: string;
  previous_secret: string | null;
  previous_secret_until: number | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  version: number;
}

export interface WebhookDeliveriesTable {
  organisation_id: string;
  /** Also the webhook-id header: stable across retries. */
  id: string;
  endpoint_id: string;
  /** The change it delivers (its body is built from the log, so an erasure reaches it); null for a test event. */
  seq: number | null;
  /** The order an endpoint gets its deliveries in: the change's seq (a test event: the latest seq then). */
  position: number;
  type: string;
  /** A test event's own body. */
  payload: string | null;
  status: 'pending' | 'delivered' | 'failed';
  attempts: Generated<number>;
  next_attempt_at: number | null;
  lease_until: number | null;
  last_status: number | null;
  last_error: string | null;
  response_excerpt: string | null;
  created_at: number;
  finished_at: number | null;
}

export interface SettingsTable {
  name: string;
  value: string;
}

export interface Database {
  organisations: OrganisationsTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  refresh_tokens: RefreshTokensTable;
  revoked_sessions: RevokedSessionsTable;
  contacts: ContactsTable;
  contact_words: ContactWordsTable;
  contact_consent: ContactConsentTable;
  duplicate_keys: DuplicateKeysTable;
  contact_handles: ContactHandlesTable;
  duplicate_sets: DuplicateSetsTable;
  merges: MergesTable;
  groups: GroupsTable;
  memberships: MembershipsTable;
  idempotency_keys: IdempotencyKeysTable;
  settings: SettingsTable;
  import_jobs: ImportJobsTable;
  import_errors: ImportErrorsTable;
  import_warnings: ImportWarningsTable;
  import_changes: ImportChangesTable;
  member_jobs: MemberJobsTable;
  changes: ChangesTable;
  change_counters: ChangeCountersTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

export type TenantTable = Exclude<keyof Database, 'organisations' | 'settings'>;
