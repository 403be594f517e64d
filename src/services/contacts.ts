import { DomainError, invalid, notFound } from '../domain/errors.js';
import {
  inputOf,
  SEARCH_MAX_WORDS,
  searchTokens,
  type Channel,
  type Consent,
  type ConsentStatus,
  type ContactInput,
  type CustomAttributes,
  type Extensions,
} from '../domain/contact.js';
import { normaliseEmail } from '../domain/email.js';
import { exportHeader, exportRow, type ExportFormat } from '../domain/formats/writers.js';
import { isUuid, isWellFormed, uuidv7, type RecordBy } from '../domain/ids.js';
import { normalisePhone } from '../domain/phone.js';
import type { Contact, Organisation } from '../domain/records.js';
import { requirePermission } from '../domain/roles.js';
import * as contacts from '../db/repositories/contacts.js';
import * as groups from '../db/repositories/groups.js';
import * as memberships from '../db/repositories/memberships.js';
import { findUserRow } from '../db/repositories/users.js';
import type { ContactFilter, ContactSort } from '../db/repositories/contacts.js';
import {
  consentEntry,
  decodeContact,
  numbersOf,
  type ContactFields,
  type ContactRow,
  type NewContactRow,
} from '../db/repositories/contact-codec.js';
import type { TenantScope } from '../db/scope.js';
import type { Store } from '../db/store.js';
import type { AccountsService } from './accounts.js';
import type { Actor } from './context.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import {
  duplicatePhone,
  duplicatePhoneOr,
  numberHeldElsewhere,
  type NumberColumns,
} from './contact-numbers.js';
import { settleFields, type ReadOptions } from './contact-reading.js';
import { checkGroups, placeContact, type Placement } from './placement.js';
import { changedMeanwhile, checkVersion } from './versions.js';

/** A consent change: a status, optionally with where it came from. */
export type ConsentInput = Partial<
  Record<Channel, ConsentStatus | { status: ConsentStatus; source?: string }>
>;

/** A JSON merge patch of a contact: absent keys stay, null clears, custom merges key by key. */
export type ContactPatch = { [K in Exclude<keyof ContactInput, 'custom'>]?: ContactInput[K] | null } & {
  custom?: Record<string, CustomAttributes[string] | null> | null;
};

export interface ContactQuery {
  group_id?: string;
  phone?: string;
  email?: string;
  q?: string;
  updated_since?: string;
  consent?: { channel: Channel; status: ConsentStatus };
  created_by?: string;
  deleted?: 'exclude' | 'only' | 'include';
  sort?: ContactSort;
  /** asc (the default) or desc: newest first with sort=created_at. */
  order?: 'asc' | 'desc';
  cursor?: string;
  limit: number;
}

/** The optional parts of a write: the version the caller last read (If-Match), consent changes, groups. */
export interface ContactWriteOptions {
  expectedVersion?: number;
  consent?: ConsentInput;
  placement?: Placement;
}

/** Contacts: identity (one live contact per number), normalisation, consent, soft delete. */
export class ContactsService {
  constructor(
    private readonly store: Store,
    private readonly accounts: AccountsService,
  ) {}

  async create(
    actor: Actor,
    input: ContactInput,
    { consent, placement }: Omit<ContactWriteOptions, 'expectedVersion'> = {},
  ): Promise<Contact> {
    requirePermission(actor.role, 'write');
    const org = await this.accounts.getOrganisation(actor);
    const fields = await this.fieldsFrom(actor, org, input);
    return this.store.transaction(actor, async (scope) => {
      if (placement) await checkGroups(scope, placement.groupKeys);
      await this.ensurePhonesFree(scope, org, fields, undefined);
      const now = Date.now();
      const id = uuidv7(now);
      const row = {
        ...fields,
        id,
        created_by: actor.userId,
        created_at: now,
        updated_at: now,
        deleted_at: null,
        version: 1,
      };
      const key = await this.insert(scope, row);
      const written = consent ? await this.applyConsent(scope, { key, id }, consent, now) : {};
      if (placement) await placeContact(scope, key, placement, actor.userId);
      // What was just written is the contact: reading it back would be a statement for nothing.
      return decodeContact(
        { ...row, key, organisation_id: actor.organisationId, merged_into: null },
        written,
      );
    });
  }

  /** A live contact; with `includeDeleted`, a soft-deleted one too (to show it and offer to restore it). */
  async get(actor: Actor, by: RecordBy, includeDeleted = false): Promise<Contact> {
    requirePermission(actor.role, 'read');
    return this.load(this.store.scope(actor.organisationId), by, includeDeleted);
  }

  /** PUT: every writable field takes the given value or becomes empty; consent changes only when given. */
  replace(
    actor: Actor,
    by: RecordBy,
    input: ContactInput,
    options: Omit<ContactWriteOptions, 'placement'> = {},
  ): Promise<Contact> {
    const next = (current: ContactInput) => ({
      ...input,
      custom: input.custom ?? {},
      external_ids: input.external_ids ?? {},
      extensions: { ...current.extensions, ...input.extensions },
    });
    return this.change(actor, by, next, options);
  }

  patch(
    actor: Actor,
    by: RecordBy,
    patch: ContactPatch,
    options: ContactWriteOptions = {},
  ): Promise<Contact> {
    return this.change(actor, by, (current) => mergePatch(current, patch), options);
  }

  async delete(
    actor: Actor,
    by: RecordBy,
    options: { permanent?: boolean; expectedVersion?: number } = {},
  ): Promise<Contact> {
    requirePermission(actor.role, options.permanent ? 'manage_users' : 'write');
    return this.store.transaction(actor, async (scope) => {
      const { row, consent } = await this.found(scope, by, options.permanent);
      checkVersion(row.version, options.expectedVersion);
      const now = Date.now();
      const deleted = {
        ...decodeContact(row, consent),
        deleted_at: new Date(now).toISOString(),
      };
      // The conditional update comes first: of concurrent deletes of one version only one gets past it.
      const updated = await this.updateRow(scope, row, {
        deleted_at: row.deleted_at ?? now,
        updated_at: now,
      });
      if (options.permanent) await contacts.deleteContactRow(scope, updated);
      return deleted;
    });
  }

  async restore(actor: Actor, by: RecordBy): Promise<Contact> {
    requirePermission(actor.role, 'write');
    const org = await this.accounts.getOrganisation(actor);
    return this.store.transaction(actor, async (scope) => {
      const { row } = await this.found(scope, by, true);
      if (row.deleted_at === null) return this.load(scope, { key: row.key });
      if (row.merged_into)
        throw new DomainError(
          'conflict',
          `The contact was merged into ${row.merged_into}: undo the merge instead`,
          {
            merged_into: row.merged_into,
          },
        );
      await this.ensurePhonesFree(scope, org, row, row.key);
      await contacts.updateContactRow(scope, row, { deleted_at: null, updated_at: Date.now() });
      return this.load(scope, { key: row.key });
    });
  }

  async list(actor: Actor, query: ContactQuery): Promise<{ items: Contact[]; next_cursor: string | null }> {
    requirePermission(actor.role, 'read');
    const scope = this.store.scope(actor.organisationId);
    const sort = query.sort ?? 'created_at';
    const descending = query.order === 'desc';
    // The cursor remembers its direction, so a cursor of one order cannot page another.
    const cursorSort = descending ? `${sort}:desc` : sort;
    const filter = await this.filterOf(actor, scope, query);
    const after = query.cursor ? decodeCursor(query.cursor, cursorSort) : undefined;
    const page = await contacts.listContactRows(scope, filter, sort, query.limit, after, descending);
    return {
      items: await this.withConsent(scope, page.items),
      next_cursor: page.next ? encodeCursor({ sort: cursorSort, ...page.next }) : null,
    };
  }

  /**
   * Every contact a list query matches as an export file (in key order, the order they were
   * made, unless a sort is asked for), one string per few
   * thousand contacts: memory stays flat however many there are, and a reader gets few, large writes.
   */
  async *export(
    actor: Actor,
    query: Omit<ContactQuery, 'limit' | 'cursor'> & { format: ExportFormat; bom?: boolean },
  ): AsyncIterable<{ text: string; contacts: number }> {
    requirePermission(actor.role, 'read');
    const scope = this.store.scope(actor.organisationId);
    const filter = await this.filterOf(actor, scope, query);
    yield { text: exportHeader(query.format, query.bom), contacts: 0 };
    const order =
      query.sort || query.order
        ? { sort: query.sort ?? 'created_at', descending: query.order === 'desc' }
        : undefined;
    for await (const rows of contacts.exportContactRows(scope, filter, order)) {
      const names = await groupNamesOf(
        scope,
        rows.map((row) => row.key),
      );
      let text = '';
      // Set on the row in place: a copy of each row was a tenth of an export's time.
      for (const row of rows)
        text += exportRow(query.format, Object.assign(row, { groups: names.get(row.key) ?? [] }));
      yield { text, contacts: rows.length };
    }
  }

  /** A list query's filters as the repository takes them: normalised, the group found. */
  private async filterOf(
    actor: Actor,
    scope: TenantScope,
    query: Omit<ContactQuery, 'limit' | 'cursor'>,
  ): Promise<ContactFilter> {
    if (query.q && searchTokens(query.q).length > SEARCH_MAX_WORDS)
      throw invalid('q', `may have at most ${SEARCH_MAX_WORDS} words`);
    const filter: ContactFilter = {
      q: query.q,
      deleted: query.deleted,
      consent: query.consent,
      createdBy: query.created_by,
      email: query.email === undefined ? undefined : normaliseEmail(query.email),
    };
    if (query.phone !== undefined) {
      const org = await this.accounts.getOrganisation(actor);
      filter.phone = normalisePhone(query.phone, org.default_country).e164;
    }
    if (query.updated_since !== undefined) {
      const since = Date.parse(query.updated_since);
      if (Number.isNaN(since)) throw invalid('updated_since', 'must be an ISO 8601 date-time');
      filter.updatedSince = since;
    }
    if (query.group_id !== undefined) {
      const group = isUuid(query.group_id)
        ? await groups.findGroupRow(scope, { id: query.group_id })
        : undefined;
      if (!group) throw notFound('Group');
      filter.group = { key: group.key, members: group.member_count };
    }
    return filter;
  }

  /** The live contact with this number, email or linked user, if any: how callers reuse instead of duplicating. */
  async findExisting(
    actor: Actor,
    match: { phone?: string | null; email?: string | null; user_id?: string },
  ): Promise<Contact | undefined> {
    requirePermission(actor.role, 'read');
    const scope = this.store.scope(actor.organisationId);
    if (match.user_id) {
      const row = await contacts.findLiveByUser(scope, match.user_id);
      if (row) return this.load(scope, { key: row.key });
    }
    if (match.phone) {
      const org = await this.accounts.getOrganisation(actor);
      const [row] = await contacts.findLiveByPhones(scope, [
        normalisePhone(match.phone, org.default_country).e164,
      ]);
      if (row) return this.load(scope, { key: row.key });
    }
    if (match.email) {
      const [row] = await contacts.findLiveByEmails(scope, [normaliseEmail(match.email)]);
      if (row) return this.load(scope, { key: row.key });
    }
    return undefined;
  }

  /** Reads and checks an input into stored fields: the one place contact input becomes a row. */
  async fieldsFrom(
    actor: Actor,
    org: Organisation,
    given: ContactInput,
    options: ReadOptions = {},
  ): Promise<ContactFields> {
    const fields = settleFields(org, given, options);
    if (
      fields.user_id &&
      !(
        isUuid(fields.user_id) &&
        (await findUserRow(this.store.scope(actor.organisationId), { id: fields.user_id }))
      )
    ) {
      throw invalid('user_id', 'is not a user of this organisation');
    }
    return fields;
  }

  private async change(
    actor: Actor,
    by: RecordBy,
    next: (current: ContactInput) => ContactInput,
    { expectedVersion, consent, placement }: ContactWriteOptions,
  ): Promise<Contact> {
    requirePermission(actor.role, 'write');
    const org = await this.accounts.getOrganisation(actor);
    return this.store.transaction(actor, async (scope) => {
      const { row, consent: stored } = await this.found(scope, by);
      checkVersion(row.version, expectedVersion);
      if (placement) await checkGroups(scope, placement.groupKeys);
      const now = Date.now();
      const updated = await this.rewrite(scope, actor, org, row, next(inputOf(decodeContact(row))), now);
      const written = consent ? await this.applyConsent(scope, updated, consent, now) : {};
      if (placement) await placeContact(scope, updated.key, placement, actor.userId);
      // The updated row and the consent as read and written are the contact, without reading it back.
      return decodeContact(updated, { ...stored, ...written });
    });
  }

  /**
   * Writes a contact's fields anew from an input (an update, a merge's survivor), checking
   * that its number stays its own; returns the row as written.
   */
  async rewrite(
    scope: TenantScope,
    actor: Actor,
    org: Organisation,
    row: ContactRow,
    input: ContactInput,
    now: number,
  ): Promise<ContactRow> {
    const fields = await this.fieldsFrom(actor, org, input, { stored: row });
    // A live contact already holds the numbers it keeps: only those it gains are checked.
    await this.ensurePhonesFree(scope, org, fields, row.key, new Set(numbersOf(row)));
    return this.updateRow(scope, row, { ...changedFields(row, fields), updated_at: now });
  }

  private async updateRow(
    scope: TenantScope,
    row: ContactRow,
    changes: contacts.ContactChanges,
  ): Promise<ContactRow> {
    try {
      const updated = await contacts.updateContactRow(scope, row, changes);
      if (!updated) throw changedMeanwhile('contact');
      return updated;
    } catch (error) {
      throw duplicatePhoneOr(error, changes.phone ?? null);
    }
  }

  private async insert(scope: TenantScope, row: NewContactRow): Promise<number> {
    try {
      return await contacts.insertContact(scope, row);
    } catch (error) {
      throw duplicatePhoneOr(error, row.phone);
    }
  }

  /**
   * One live contact per number, whichever place (primary or other) either contact holds it in,
   * unless the organisation allows duplicates: the first of the contact's numbers (but those in
   * `kept`) that another live contact holds is a 409 naming its field and that contact.
   */
  private async ensurePhonesFree(
    scope: TenantScope,
    org: Organisation,
    contact: NumberColumns,
    ownKey: number | undefined,
    kept: ReadonlySet<string> = new Set(),
  ): Promise<void> {
    if (org.allow_duplicate_phones) return;
    const taken = await numberHeldElsewhere(scope, contact, ownKey, kept);
    if (taken) throw duplicatePhone(taken.holder.id, taken.field);
  }

  private async applyConsent(
    scope: TenantScope,
    contact: { key: number; id: string },
    consent: ConsentInput,
    now: number,
  ): Promise<Consent> {
    const written: Consent = {};
    for (const [channel, value] of Object.entries(consent)) {
      if (value === undefined) continue;
      const entry =
        typeof value === 'string'
          ? { status: value, source: 'api' }
          : { status: value.status, source: value.source ?? 'api' };
      await contacts.setConsent(scope, contact, channel as Channel, { ...entry, changed_at: now });
      written[channel as Channel] = consentEntry(entry.status, now, entry.source);
    }
    return written;
  }

  /** The contact's row and consent, or a 404. */
  private async found(
    scope: TenantScope,
    by: RecordBy,
    includeDeleted = false,
  ): Promise<{ row: ContactRow; consent: Consent }> {
    const found = isWellFormed(by)
      ? await contacts.findContactWithConsent(scope, by, includeDeleted)
      : undefined;
    if (!found) throw await missing(scope, by);
    return found;
  }

  private async load(scope: TenantScope, by: RecordBy, includeDeleted = false): Promise<Contact> {
    const contact = isWellFormed(by) ? await contacts.findContact(scope, by, includeDeleted) : undefined;
    if (!contact) throw await missing(scope, by);
    return contact;
  }

  private async withConsent(scope: TenantScope, rows: ContactRow[]): Promise<Contact[]> {
    const consent = await contacts.consentOf(
      scope,
      rows.map((r) => r.key),
    );
    return rows.map((row) => decodeContact(row, consent.get(row.key)));
  }
}

/** The names of the live groups each contact is in, in name order. */
async function groupNamesOf(scope: TenantScope, keys: number[]): Promise<Map<number, string[]>> {
  const held = await memberships.groupKeysOfContacts(scope, keys);
  const names = new Map(
    (await groups.findGroupRowsByKeys(scope, [...new Set(held.map((m) => m.group_key))])).map((g) => [
      g.key,
      g.name,
    ]),
  );
  const byContact = new Map<number, string[]>();
  for (const m of held) {
    const name = names.get(m.group_key);
    if (name === undefined) continue;
    const list = byContact.get(m.contact_key);
    if (list) list.push(name);
    else byContact.set(m.contact_key, [name]);
  }
  for (const list of byContact.values()) list.sort();
  return byContact;
}

/**
 * The 404 of a contact that is not there, live: one merged into another names the survivor
 * (`merged_into`), so a client holding the old id can follow it.
 */
async function missing(scope: TenantScope, by: RecordBy): Promise<DomainError> {
  const row = isWellFormed(by) ? await contacts.findContactRow(scope, by, true) : undefined;
  if (row?.merged_into)
    return new DomainError('not_found', `Contact not found: it was merged into ${row.merged_into}`, {
      merged_into: row.merged_into,
    });
  return notFound('Contact');
}

/** The fields that differ from the stored row: an update sets only those, a PATCH mostly touching one or two. */
function changedFields(row: ContactRow, fields: ContactFields): Partial<ContactFields> {
  const changed: Partial<ContactFields> = {};
  for (const [column, value] of Object.entries(fields) as [keyof ContactFields, unknown][])
    if (row[column] !== value) (changed as Record<string, unknown>)[column] = value;
  return changed;
}

/**
 * `phones` given replaces the list, `phone` given too naming its primary; `phone` alone replaces
 * the primary number and keeps the others (withPrimary); emails likewise. Other lists replace whole.
 */
function mergePatch(current: ContactInput, patch: ContactPatch): ContactInput {
  const next: ContactInput = { ...current };
  if (patch.phones !== undefined) delete next.phone;
  if (patch.emails !== undefined) delete next.email;
  for (const [field, value] of Object.entries(patch) as [keyof ContactInput, unknown][]) {
    if (value === undefined) continue;
    if (field === 'custom') next.custom = mergeCustom(current.custom ?? {}, value as ContactPatch['custom']);
    else if (field === 'extensions') next.extensions = { ...current.extensions, ...(value as Extensions) };
    else (next as Record<string, unknown>)[field] = value;
  }
  return next;
}

function mergeCustom(current: CustomAttributes, patch: ContactPatch['custom'] | null): CustomAttributes {
  if (patch === null || patch === undefined) return patch === null ? {} : current;
  const merged: CustomAttributes = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}
