/**
 * The change log's vocabulary: what can change, through which surface, by whom. One list,
 * documented in docs/changes.md; the feed's `types` filter and webhook subscriptions take
 * these names.
 */
export const CHANGE_TYPES = [
  'contact.created',
  'contact.updated',
  'contact.deleted',
  'contact.restored',
  'contact.erased',
  'contact.merged',
  'consent.updated',
  'group.created',
  'group.updated',
  'group.deleted',
  'group.members_added',
  'group.members_removed',
  'user.created',
  'user.updated',
  'api_key.created',
  'api_key.revoked',
  'organisation.updated',
  'import.completed',
  'import.cancelled',
  'import.rolled_back',
] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

/** The kind of record a change is about: the first part of its type. */
export type ResourceType = 'contact' | 'group' | 'user' | 'api_key' | 'organisation' | 'import';
export const resourceTypeOf = (type: ChangeType) =>
  (type === 'consent.updated' ? 'contact' : type.slice(0, type.indexOf('.'))) as ResourceType;

/** The API a change came through. */
export const SURFACES = ['v1', 'seed-000', 'seed-001', 'seed-002', 'seed-003', 'import', 'cli'] as const;
export type Surface = (typeof SURFACES)[number];

/**
 * How the author proved who they are; `import` names the import job that made a bulk change, `job` a
 * background job (adding a group's matching contacts) that a process took over from another, acting as its creator.
 */
export type CredentialKind = 'basic' | 'jwt' | 'api_key' | 'cli' | 'import' | 'job';

/**
 * Who a transaction writes for: every change it records names them. Services' Actor is one;
 * an import's batches write as the import itself.
 */
export interface ChangeAuthor {
  organisationId: string;
  userId: string | null;
  credential: CredentialKind;
  /** The API key's id, the JWT's session id, the import's id; none for a password or the CLI. */
  credentialId?: string;
  surface: Surface;
}

/** An update's changed fields: each with the value before and after. */
export type FieldChanges = Record<string, { old: unknown; new: unknown }>;

/** What a write hands to the log: the rest (sequence, author, time) the transaction adds. */
export interface ChangeInput {
  type: ChangeType;
  resourceId: string;
  /** The record's version after the change, where it has one. */
  version?: number | null;
  changes?: FieldChanges;
  /** Members added or removed. */
  contactIds?: string[];
  /** An import's counts, and other summaries. */
  summary?: Record<string, unknown>;
}

/** One entry of the log, as the feed, history and webhooks show it. */
export interface Change {
  seq: number;
  type: ChangeType;
  resource: { type: ResourceType; id: string };
  version: number | null;
  actor: { user_id: string | null; credential: { kind: CredentialKind; id: string | null } };
  surface: Surface;
  occurred_at: string;
  changes?: FieldChanges;
  contact_ids?: string[];
  summary?: Record<string, unknown>;
}

/**
 * Whether a change is sent to webhooks as well as listed in the feed: an import's own changes
 * (one per contact) are summed up by its `import.*` event, so receivers are not flooded.
 */
export const notifies = (type: ChangeType, surface: Surface) =>
  surface !== 'import' || type.startsWith('import.');

/** The changed fields of a record: every key of `next` whose value differs from `before`'s. */
export function fieldChanges(
  before: Record<string, unknown>,
  next: Record<string, unknown>,
  fields: readonly string[],
): FieldChanges {
  const changed: FieldChanges = {};
  for (const field of fields)
    if (field in next && !sameValue(before[field], next[field]))
      changed[field] = { old: before[field] ?? null, new: next[field] ?? null };
  return changed;
}

const sameValue = (a: unknown, b: unknown) => (a ?? null) === (b ?? null);
