import { inputOf, type Channel, type Consent } from '../domain/contact.js';
import { DomainError, invalid, notFound } from '../domain/errors.js';
import { isUuid, uuidv7 } from '../domain/ids.js';
import { MERGE_MAX_IDS, mergeContacts, type MergeField } from '../domain/merge.js';
import type { Contact, Merge } from '../domain/records.js';
import { requirePermission } from '../domain/roles.js';
import * as contacts from '../db/repositories/contacts.js';
import * as groups from '../db/repositories/groups.js';
import * as memberships from '../db/repositories/memberships.js';
import * as merges from '../db/repositories/merges.js';
import { CONTACT_FIELD_COLUMNS, decodeContact, type ContactRow } from '../db/repositories/contact-codec.js';
import type { MergeRow } from '../db/repositories/merges.js';
import type { TenantScope } from '../db/scope.js';
import type { Store } from '../db/store.js';
import type { AccountsService } from './accounts.js';
import { numberHeldElsewhere } from './contact-numbers.js';
import type { ContactsService } from './contacts.js';
import type { Actor } from './context.js';
import { changedMeanwhile, checkVersion } from './versions.js';

export interface MergeRequest {
  /** The contacts merged into the survivor, in the order their values are considered. */
  ids: string[];
  /** Per field, the id of the contact whose value wins. */
  fields?: Partial<Record<MergeField, string>>;
}

export interface MergeOptions {
  /** The survivor's version the caller saw (If-Match). */
  expectedVersion?: number;
  /** Do everything, answer what it did, and roll it back. */
  dryRun?: boolean;
}

/** Thrown out of a dry run's transaction to roll it back, carrying what the merge did. */
class DryRun {
  constructor(readonly outcome: { merge: Merge; contact: Contact }) {}
}

/** What a merge stored to be undone: every contact as it was, and what the merge changed. */
interface Before {
  contacts: { row: ContactRow; consent: Consent }[];
}
interface After {
  /** Each contact's version right after the merge: a later change means hands off. */
  versions: Record<string, number>;
  /** Groups the survivor joined through the merge (at the merge's time). */
  groups_added: number[];
  fields: Partial<Record<MergeField, string>>;
  consent_from: Partial<Record<Channel, string>>;
}

/** Merging duplicate contacts into one, and undoing it. */
export class MergesService {
  constructor(
    private readonly store: Store,
    private readonly accounts: AccountsService,
    private readonly contacts: ContactsService,
  ) {}

  /**
   * Merges `request.ids` into the survivor in one transaction: the others soft-deleted pointing
   * to it, their memberships united on it (member counts kept), fields and consent merged
   * (src/domain/merge.ts). Every write goes through the contacts' repository writers, as any
   * other path's, so duplicate keys follow.
   */
  async merge(
    actor: Actor,
    survivorId: string,
    request: MergeRequest,
    options: MergeOptions = {},
  ): Promise<{ merge: Merge; contact: Contact }> {
    requirePermission(actor.role, 'write');
    checkIds(survivorId, request.ids);
    const { expectedVersion, dryRun = false } = options;
    const org = await this.accounts.getOrganisation(actor);
    const merging = this.store.transaction(actor, async (scope) => {
      const survivor = await live(scope, survivorId, 'survivor');
      checkVersion(survivor.row.version, expectedVersion);
      const others = [];
      for (const id of request.ids) others.push(await live(scope, id, 'ids'));
      const all = [survivor, ...others];
      const result = mergeContacts(
        all.map(({ row, consent }) => ({ id: row.id, input: inputOf(decodeContact(row)), consent })),
        request.fields,
      );
      const now = Date.now();
      const links = await memberships.groupKeysOfContacts(
        scope,
        all.map((c) => c.row.key),
      );
      const versions: Record<string, number> = {};
      // The others go first: a number of theirs is free for the survivor to take then. Their
      // groups stop counting them (the repository's update of deleted_at does that).
      for (const other of others) {
        const deleted = await contacts.updateContactRow(scope, other.row, {
          deleted_at: now,
          updated_at: now,
          merged_into: survivor.row.id,
        });
        if (!deleted) throw changedMeanwhile('contact');
        versions[other.row.key] = deleted.version;
      }
      const updated = await this.contacts.rewrite(scope, actor, org, survivor.row, result.input, now);
      versions[updated.key] = updated.version;
      for (const [channel, entry] of Object.entries(result.consent) as [Channel, Consent[Channel]][])
        if (JSON.stringify(survivor.consent[channel]) !== JSON.stringify(entry))
          await contacts.setConsent(scope, updated, channel, {
            status: entry!.status,
            changed_at: Date.parse(entry!.at),
            source: entry!.source,
          });
      const own = new Set(links.filter((l) => l.contact_key === updated.key).map((l) => l.group_key));
      const joined = [...new Set(links.map((l) => l.group_key))].filter((g) => !own.has(g));
      for (const group of joined)
        await memberships.addMembers(scope, group, [updated.key], actor.userId, now);
      const before: Before = { contacts: all.map(({ row, consent }) => ({ row, consent })) };
      const after: After = {
        versions,
        groups_added: joined,
        fields: result.fields,
        consent_from: result.consentFrom,
      };
      const row = await merges.insertMerge(scope, {
        id: uuidv7(now),
        survivor_key: updated.key,
        merged_keys: JSON.stringify(others.map((o) => o.row.key)),
        before: JSON.stringify(before),
        after: JSON.stringify(after),
        created_by: actor.userId,
        created_at: now,
        undone_at: null,
        undo_report: null,
      });
      const contact = await contacts.findContact(scope, { key: updated.key });
      const outcome = { merge: await this.toMerge(scope, row), contact: contact! };
      if (dryRun) throw new DryRun(outcome);
      return outcome;
    });
    // A dry run is the merge itself, rolled back: its preview cannot differ from what a merge would do.
    return merging.catch((error: unknown) => {
      if (error instanceof DryRun) return error.outcome;
      throw error;
    });
  }

  async get(actor: Actor, id: string): Promise<Merge> {
    requirePermission(actor.role, 'read');
    const scope = this.store.scope(actor.organisationId);
    return this.toMerge(scope, await found(scope, id));
  }

  /**
   * Puts every contact, membership, consent and field back as it was before the merge, except
   * what has changed since, which it leaves and lists (as an import's rollback does).
   */
  async undo(actor: Actor, id: string): Promise<Merge> {
    requirePermission(actor.role, 'write');
    const org = await this.accounts.getOrganisation(actor);
    return this.store.transaction(actor, async (scope) => {
      const merge = await found(scope, id);
      if (merge.undone_at !== null) throw new DomainError('conflict', 'The merge has been undone already');
      const before = JSON.parse(merge.before) as Before;
      const after = JSON.parse(merge.after) as After;
      const now = Date.now();
      const notUndone: { contact_id: string; reason: string }[] = [];
      const [survivor, ...others] = before.contacts;
      const refuse = (row: ContactRow, reason: string) => notUndone.push({ contact_id: row.id, reason });

      const current = await contacts.findContactRow(scope, { key: survivor!.row.key }, true);
      // The groups the merge gave the survivor, unless it left and joined again since.
      const joined = await memberships.groupsJoinedAt(
        scope,
        survivor!.row.key,
        after.groups_added,
        merge.created_at,
      );
      for (const group of joined) await memberships.removeMembers(scope, group, [survivor!.row.key]);
      const survivorReason = !current
        ? 'the contact has been deleted since'
        : current.version !== after.versions[current.key] || current.deleted_at !== null
          ? 'the contact has changed since the merge: its fields and consent were left as they are'
          : await numberTaken(scope, org.allow_duplicate_phones, survivor!.row);
      if (survivorReason) refuse(survivor!.row, survivorReason);
      else await restoreSurvivor(scope, current!, survivor!, now);

      for (const other of others) {
        const row = await contacts.findContactRow(scope, { key: other.row.key }, true);
        const reason = !row
          ? 'the contact has been deleted since'
          : row.version !== after.versions[row.key] || row.merged_into !== survivor!.row.id
            ? 'the contact has changed since the merge'
            : await numberTaken(scope, org.allow_duplicate_phones, row);
        if (reason) {
          refuse(other.row, reason);
          continue;
        }
        // Live again, it counts in its groups again (the repository's update of deleted_at).
        await contacts.updateContactRow(scope, row!, {
          deleted_at: other.row.deleted_at,
          merged_into: null,
          updated_at: now,
        });
      }
      const report = JSON.stringify(notUndone);
      if (!(await merges.markMergeUndone(scope, merge.key, now, report)))
        throw new DomainError('conflict', 'The merge has been undone already');
      return this.toMerge(scope, { ...merge, undone_at: now, undo_report: report });
    });
  }

  private async toMerge(scope: TenantScope, row: MergeRow): Promise<Merge> {
    const before = JSON.parse(row.before) as Before;
    const after = JSON.parse(row.after) as After;
    const added = await groups.findGroupRowsByKeys(scope, after.groups_added);
    const [survivor, ...others] = before.contacts;
    return {
      id: row.id,
      contact_id: survivor!.row.id,
      merged_ids: others.map((o) => o.row.id),
      fields: after.fields,
      consent_from: after.consent_from,
      groups_added: added.map((g) => g.id),
      created_by: row.created_by,
      created_at: new Date(row.created_at).toISOString(),
      undone_at: row.undone_at === null ? null : new Date(row.undone_at).toISOString(),
      not_undone: row.undo_report === null ? null : JSON.parse(row.undo_report),
    };
  }
}

function checkIds(survivorId: string, ids: string[]): void {
  if (ids.length === 0 || ids.length > MERGE_MAX_IDS)
    throw invalid('ids', `must name 1 to ${MERGE_MAX_IDS} contacts`);
  if (new Set(ids).size !== ids.length) throw invalid('ids', 'names a contact twice');
  if (ids.includes(survivorId)) throw invalid('ids', 'names the contact merged into');
}

/**
 * A contact a merge may take part in: live. One merged already is a conflict (a concurrent
 * merge of an overlapping set won), one that is not there a 404 for the survivor (the path)
 * and a 400 for the ids (the body).
 */
async function live(scope: TenantScope, id: string, role: 'survivor' | 'ids') {
  const found = isUuid(id) ? await contacts.findContactWithConsent(scope, { id }, true) : undefined;
  if (found?.row.merged_into)
    throw new DomainError('conflict', `Contact ${id} has been merged into ${found.row.merged_into}`, {
      merged_into: found.row.merged_into,
    });
  if (found && found.row.deleted_at === null) return found;
  if (role === 'survivor') throw notFound('Contact');
  throw invalid('ids', `${id} is not a live contact of this organisation`);
}

async function found(scope: TenantScope, id: string): Promise<MergeRow> {
  const row = isUuid(id) ? await merges.findMerge(scope, id) : undefined;
  if (!row) throw notFound('Merge');
  return row;
}

/** Why a contact cannot be live with its former numbers again: another live contact holds one now. */
async function numberTaken(
  scope: TenantScope,
  duplicatesAllowed: boolean,
  row: ContactRow,
): Promise<string | undefined> {
  if (duplicatesAllowed) return undefined;
  const taken = await numberHeldElsewhere(scope, row, row.key);
  return taken && `its number ${taken.number} belongs to contact ${taken.holder.id} now`;
}

async function restoreSurvivor(
  scope: TenantScope,
  current: ContactRow,
  before: Before['contacts'][number],
  now: number,
): Promise<void> {
  const columns = Object.fromEntries(CONTACT_FIELD_COLUMNS.map((c) => [c, before.row[c]]));
  await contacts.updateContactRow(scope, current, { ...columns, updated_at: now });
  const consent = await contacts.consentOf(scope, [current.key]);
  const stored = consent.get(current.key) ?? {};
  for (const channel of new Set([...Object.keys(stored), ...Object.keys(before.consent)]) as Set<Channel>) {
    const entry = before.consent[channel];
    if (!entry) await contacts.deleteConsent(scope, current, channel);
    else
      await contacts.setConsent(scope, current, channel, {
        status: entry.status,
        changed_at: Date.parse(entry.at),
        source: entry.source,
      });
  }
}
