import { DomainError, invalid, notFound } from '../domain/errors.js';
import { GROUP_NAME_MAX } from '../domain/group.js';
import type { ExternalIds } from '../domain/contact.js';
import { isUuid, isWellFormed, uuidv7, type RecordBy } from '../domain/ids.js';
import type { ContactCard, Group, Organisation, Translations } from '../domain/records.js';
import { requirePermission } from '../domain/roles.js';
import * as contacts from '../db/repositories/contacts.js';
import * as groups from '../db/repositories/groups.js';
import * as memberships from '../db/repositories/memberships.js';
import type { GroupRow, GroupSort } from '../db/repositories/groups.js';
import type { TenantScope } from '../db/scope.js';
import type { Store } from '../db/store.js';
import type { AccountsService } from './accounts.js';
import type { ContactsService, ContactQuery } from './contacts.js';
import type { Actor } from './context.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { checkGroups, placeContact } from './placement.js';
import { changedMeanwhile, checkVersion } from './versions.js';

export interface GroupInput {
  name?: string;
  description?: string | null;
  translations?: Translations;
  is_active?: boolean;
  is_default?: boolean;
  thumbnail_url?: string | null;
  external_ids?: ExternalIds;
  /** For data migrated from another system; defaults to now. */
  created_at?: string | null;
}

const MAX_MEMBERS_PER_CALL = 10_000;
/** Member cards read per query when listing whole groups: bounds what one listing holds at once. */
const MEMBER_CHUNK = 200;

/** Groups and their memberships (the memberships repository keeps member counts). */
export class GroupsService {
  constructor(
    private readonly store: Store,
    private readonly accounts: AccountsService,
    private readonly contactsService: ContactsService,
  ) {}

  async create(actor: Actor, input: GroupInput): Promise<Group> {
    requirePermission(actor.role, 'write');
    const org = await this.accounts.getOrganisation(actor);
    const fields = fieldsOf(org, input, undefined);
    return this.store.transaction(actor, async (scope) => {
      if (fields.is_default === 1) await this.clearDefault(scope);
      return groups.toGroup(await insertGroup(scope, actor, fields, createdAt(input.created_at)));
    });
  }

  /**
   * The keys of live groups by name, in the caller's transaction, each created when missing (as
   * an import's group_name is): the groups an imported file's rows name. Of several groups of
   * one name, the oldest.
   */
  async keysByName(scope: TenantScope, actor: Actor, names: string[]): Promise<Map<string, number>> {
    const keys = new Map<string, number>();
    if (names.length === 0) return keys;
    for (const row of await groups.findGroupRowsByNames(scope, names))
      if (!keys.has(row.name)) keys.set(row.name, row.key);
    const org = await this.accounts.getOrganisation(actor);
    for (const name of names) {
      if (keys.has(name)) continue;
      keys.set(name, (await insertGroup(scope, actor, fieldsOf(org, { name }, undefined))).key);
    }
    return keys;
  }

  async get(actor: Actor, by: RecordBy): Promise<Group> {
    requirePermission(actor.role, 'read');
    return groups.toGroup(await this.row(this.store.scope(actor.organisationId), by));
  }

  /** PUT replaces every writable field; PATCH (replace=false) changes only those given. */
  async update(
    actor: Actor,
    by: RecordBy,
    input: GroupInput,
    options: { replace?: boolean; expectedVersion?: number } = {},
  ): Promise<Group> {
    requirePermission(actor.role, 'write');
    const org = await this.accounts.getOrganisation(actor);
    return this.store.transaction(actor, async (scope) => {
      const row = await this.row(scope, by);
      checkVersion(row.version, options.expectedVersion);
      const current = groups.toGroup(row);
      const fields = fieldsOf(org, options.replace ? input : { ...groupInputOf(current), ...input }, current);
      if (fields.is_default === 1 && row.is_default !== 1) await this.clearDefault(scope);
      const created = createdAt(input.created_at);
      const updated = await groups.updateGroupRow(scope, row, {
        ...fields,
        ...(created !== undefined && { created_at: created }),
        updated_at: Date.now(),
      });
      if (!updated) throw changedMeanwhile('group');
      return groups.toGroup(updated);
    });
  }

  /** Soft-deletes a group: it disappears from every API; its contacts stay in the organisation. */
  async delete(actor: Actor, by: RecordBy, options: { expectedVersion?: number } = {}): Promise<Group> {
    requirePermission(actor.role, 'write');
    return this.store.transaction(actor, async (scope) => {
      const row = await this.row(scope, by);
      checkVersion(row.version, options.expectedVersion);
      const now = Date.now();
      const updated = await groups.updateGroupRow(scope, row, {
        deleted_at: now,
        updated_at: now,
        is_default: 0,
      });
      if (!updated) throw changedMeanwhile('group');
      await memberships.deleteMembershipsOfGroup(scope, row.key);
      return { ...groups.toGroup(row), deleted_at: new Date(now).toISOString() };
    });
  }

  async list(
    actor: Actor,
    query: { q?: string; sort?: GroupSort; cursor?: string; limit: number; created_by?: string },
  ) {
    requirePermission(actor.role, 'read');
    const sort = query.sort ?? 'created_at';
    const after = query.cursor ? decodeCursor(query.cursor, sort) : undefined;
    const page = await groups.listGroupRows(
      this.store.scope(actor.organisationId),
      { q: query.q, createdBy: query.created_by },
      sort,
      query.limit,
      after,
    );
    return {
      items: page.items.map(groups.toGroup),
      next_cursor: page.next ? encodeCursor({ sort, ...page.next }) : null,
    };
  }

  /** Page-number listing (1-based) with the total, for the Django-style seed API. */
  async pageByNumber(
    actor: Actor,
    page: number,
    pageSize: number,
  ): Promise<{ items: Group[]; total: number }> {
    requirePermission(actor.role, 'read');
    const { rows, total } = await groups.groupRowsByOffset(
      this.store.scope(actor.organisationId),
      (page - 1) * pageSize,
      pageSize,
    );
    return { items: rows.map(groups.toGroup), total };
  }

  async listMembers(actor: Actor, groupId: string, query: Omit<ContactQuery, 'group_id'>) {
    return this.contactsService.list(actor, { ...query, group_id: groupId });
  }

  /** Adds contacts (by id or key) in one transaction; already-members are left as they are. */
  async addMembers(actor: Actor, by: RecordBy, contactRefs: { ids?: string[]; keys?: number[] }) {
    requirePermission(actor.role, 'write');
    return this.store.transaction(actor, async (scope) => {
      const group = await this.row(scope, by);
      const keys = await this.contactKeys(scope, contactRefs);
      const added = await memberships.addMembers(scope, group.key, keys, actor.userId, Date.now());
      return {
        added: added.length,
        already_members: keys.length - added.length,
        member_count: group.member_count + added.length,
      };
    });
  }

  async removeMembers(actor: Actor, by: RecordBy, contactRefs: { ids?: string[]; keys?: number[] }) {
    requirePermission(actor.role, 'write');
    return this.store.transaction(actor, async (scope) => {
      const group = await this.row(scope, by);
      const keys = await this.contactKeys(scope, contactRefs, true);
      const removed = await memberships.removeMembers(scope, group.key, keys);
      return {
        removed: removed.length,
        not_members: keys.length - removed.length,
        member_count: group.member_count - removed.length,
      };
    });
  }

  /** Makes the contact a member of exactly these groups (by key): what the seed APIs mean by "moving" a contact. */
  async setGroupsOfContact(actor: Actor, contactKey: number, groupKeys: number[]): Promise<void> {
    requirePermission(actor.role, 'write');
    await this.store.transaction(actor, async (scope) => {
      await checkGroups(scope, groupKeys);
      await placeContact(scope, contactKey, { groupKeys, exclusive: true }, actor.userId);
    });
  }

  /** The live groups one contact is in, oldest membership first (not found for another organisation's id). */
  async groupsOfContact(actor: Actor, contactId: string): Promise<Group[]> {
    const contact = await this.contactsService.get(actor, { id: contactId });
    return (await this.groupsOfContacts(actor, [contact.key])).get(contact.key) ?? [];
  }

  /** The live groups of each contact, oldest membership first. */
  async groupsOfContacts(actor: Actor, contactKeys: number[]): Promise<Map<number, Group[]>> {
    requirePermission(actor.role, 'read');
    const scope = this.store.scope(actor.organisationId);
    const links = await memberships.groupKeysOfContacts(scope, contactKeys);
    const rows = await groups.findGroupRowsByKeys(scope, [...new Set(links.map((l) => l.group_key))]);
    const byKey = new Map(rows.map((r) => [r.key, groups.toGroup(r)]));
    const result = new Map<number, Group[]>();
    for (const link of links) {
      const group = byKey.get(link.group_key);
      if (group) result.set(link.contact_key, [...(result.get(link.contact_key) ?? []), group]);
    }
    return result;
  }

  /**
   * Each group's live members as cards, in the order they joined: one array per group, in the
   * order of `groupKeys`. Cards are read MEMBER_CHUNK at a time across the groups, so a page of
   * groups costs the same few queries however many groups it holds, and only the group being
   * yielded and one chunk are held at once, however many members the page has.
   */
  async *memberCards(actor: Actor, groupKeys: number[]): AsyncGenerator<ContactCard[]> {
    requirePermission(actor.role, 'read');
    const scope = this.store.scope(actor.organisationId);
    const keysOf = new Map<number, number[]>(groupKeys.map((k) => [k, []]));
    for (const link of await memberships.memberKeysOfGroups(scope, groupKeys))
      keysOf.get(link.group_key)!.push(link.contact_key);
    const keys = groupKeys.flatMap((k) => keysOf.get(k)!);
    let at = 0;
    let chunkEnd = 0;
    let chunk = new Map<number, ContactCard>();
    for (const groupKey of groupKeys) {
      const members: ContactCard[] = [];
      for (const end = at + keysOf.get(groupKey)!.length; at < end; at++) {
        if (at === chunkEnd) {
          chunkEnd = Math.min(keys.length, at + MEMBER_CHUNK);
          const cards = await contacts.findContactCardsByKeys(scope, keys.slice(at, chunkEnd));
          chunk = new Map(cards.map((c) => [c.key, c]));
        }
        const card = chunk.get(keys[at]!);
        if (card) members.push(card);
      }
      yield members;
    }
  }

  /** One group's live members as cards, in the order they joined. */
  async membersOf(actor: Actor, groupKey: number): Promise<ContactCard[]> {
    for await (const members of this.memberCards(actor, [groupKey])) return members;
    return [];
  }

  private async contactKeys(
    scope: TenantScope,
    refs: { ids?: string[]; keys?: number[] },
    allowMissing = false,
  ): Promise<number[]> {
    const ids = [...new Set(refs.ids ?? [])];
    const keys = [...new Set(refs.keys ?? [])];
    if (ids.length + keys.length > MAX_MEMBERS_PER_CALL)
      throw invalid('contact_ids', `at most ${MAX_MEMBERS_PER_CALL} contacts a call`);
    const found = new Map<string, number>();
    for (let i = 0; i < ids.length; i += 1000) {
      const batch = ids.slice(i, i + 1000).filter(isUuid);
      for (const row of await contacts.findLiveByIds(scope, batch)) found.set(row.id, row.key);
    }
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0 && !allowMissing) {
      throw new DomainError(
        'validation',
        `${missing.length} contact id(s) do not exist in this organisation`,
        {
          fields: [{ field: 'contact_ids', message: `unknown: ${missing.slice(0, 20).join(', ')}` }],
          unknown_ids: missing,
        },
      );
    }
    const liveKeys = new Set((await contacts.findContactRowsByKeys(scope, keys)).map((r) => r.key));
    const missingKeys = keys.filter((k) => !liveKeys.has(k));
    if (missingKeys.length > 0 && !allowMissing)
      throw invalid('contact_ids', `unknown: ${missingKeys.slice(0, 20).join(', ')}`);
    return [...new Set([...found.values(), ...liveKeys])];
  }

  private async clearDefault(scope: TenantScope): Promise<void> {
    const current = await groups.findDefaultGroupRow(scope);
    if (current)
      await groups.updateGroupRow(scope, current, {
        is_default: 0,
        updated_at: Date.now(),
      });
  }

  private async row(scope: TenantScope, by: RecordBy): Promise<GroupRow> {
    const row = isWellFormed(by) ? await groups.findGroupRow(scope, by) : undefined;
    if (!row) throw notFound('Group');
    return row;
  }
}

function createdAt(value: string | null | undefined): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalid('created_at', 'must be an ISO 8601 date-time');
  return ms;
}

function groupInputOf(g: Group): GroupInput {
  return {
    name: g.name,
    description: g.description,
    translations: g.translations,
    is_active: g.is_active,
    is_default: g.is_default,
    thumbnail_url: g.thumbnail_url,
    external_ids: g.external_ids,
  };
}

/**
 * A group's name is its name in the organisation's default language: whichever of the
 * two is given sets the other, so the translations and the name never disagree.
 */
/** A new group's row, created now (or at `createdAt`, for migrated data). */
function insertGroup(
  scope: TenantScope,
  actor: Actor,
  fields: ReturnType<typeof fieldsOf>,
  createdAt?: number,
) {
  const now = Date.now();
  return groups.insertGroup(scope, {
    ...fields,
    id: uuidv7(now),
    member_count: 0,
    created_by: actor.userId,
    created_at: createdAt ?? now,
    updated_at: now,
    deleted_at: null,
    version: 1,
  });
}

function fieldsOf(org: Organisation, input: GroupInput, current: Group | undefined) {
  const translations: Translations = { ...(input.translations ?? {}) };
  const lang = org.default_language;
  const nameChanged = input.name !== undefined && input.name !== current?.name;
  const name = nameChanged ? input.name! : (translations[lang]?.name ?? input.name);
  if (!name || name.trim() === '') throw invalid('name', 'is required');
  if (name.length > GROUP_NAME_MAX) throw invalid('name', `must be at most ${GROUP_NAME_MAX} characters`);
  // The description follows the same rule: a changed `description` wins, else the default
  // language's own (null included, so a translation can clear it).
  const descriptionChanged = input.description !== undefined && input.description !== current?.description;
  const own = translations[lang];
  const description = descriptionChanged
    ? input.description!
    : own && 'description' in own
      ? (own.description ?? null)
      : (input.description ?? null);
  translations[lang] = { ...own, name, description };
  for (const [language, t] of Object.entries(translations)) {
    if (!t || typeof t.name !== 'string' || t.name.length > GROUP_NAME_MAX)
      throw invalid(`translations.${language}.name`, `is required, at most ${GROUP_NAME_MAX} characters`);
  }
  if (input.thumbnail_url && !/^https?:\/\/\S+$/i.test(input.thumbnail_url))
    throw invalid('thumbnail_url', 'must be an http or https URL');
  return {
    name,
    description,
    translations: JSON.stringify(translations),
    is_active: input.is_active === false ? 0 : 1,
    is_default: input.is_default ? 1 : 0,
    thumbnail_url: input.thumbnail_url ?? null,
    external_ids: JSON.stringify(input.external_ids ?? {}),
  };
}
