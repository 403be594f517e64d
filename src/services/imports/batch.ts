import {
  CONTACT_LIST_FIELDS,
  inputOf,
  namesAgree,
  phoneHolder,
  type ContactInput,
} from '../../domain/contact.js';
import {
  ADDRESS_PARTS,
  type ContactDate,
  type ContactEmail,
  type ContactPhone,
  type ContactUrl,
  firstAt,
  type PostalAddress,
} from '../../domain/contact-details.js';
import { DomainError } from '../../domain/errors.js';
import { uuidv7 } from '../../domain/ids.js';
import type { ImportCounts, Organisation } from '../../domain/records.js';
import * as contacts from '../../db/repositories/contacts.js';
import * as imports from '../../db/repositories/imports.js';
import * as memberships from '../../db/repositories/memberships.js';
import {
  CONTACT_FIELD_COLUMNS,
  decodeContact,
  detailsOf,
  emailsOf,
  numbersOf,
  phonesOf,
  type ContactFields,
  type ContactRow,
} from '../../db/repositories/contact-codec.js';
import type { TenantScope } from '../../db/scope.js';
import type { ContactsService } from '../contacts.js';
import type { ChangeAuthor } from '../../domain/changes.js';
import type { Actor } from '../context.js';
import type { GroupsService } from '../groups.js';
import { policyOf, POLICY_FIELDS, type FieldPolicy, type ImportOptions } from './options.js';
import type { PreparedBatch, ReadyRow, RowError, RowWarning } from './preparation.js';

export type BatchCounts = ImportCounts;

export interface BatchContext {
  actor: Actor;
  /** Who the batches write as: the import itself (jobs.ts importAuthor). */
  author: ChangeAuthor;
  /** The organisation, its country replaced by the import's when one is given. */
  org: Organisation;
  jobKey: number;
  options: ImportOptions;
  groupKeys: number[];
  contacts: ContactsService;
  groups: GroupsService;
}

/** A contact of the batch: one already there by key, or one the batch creates. */
type Member = number | ReadyRow;

interface Plan {
  creates: ReadyRow[];
  updates: Map<number, { before: ContactRow; input: ContactInput; fields: ContactFields; row: number }>;
  /** Every contact the batch leaves in the target groups, with the row that put it there. */
  members: Map<Member, number>;
  /** The groups rows name, by name, with the contacts that join each and their rows. */
  named: Map<string, Map<Member, number>>;
  errors: RowError[];
  warnings: RowWarning[];
  counts: BatchCounts;
}

/** Warnings already reported when the row was first read: a later reading of it adds none. */
const reported = () => {};

type ListField = (typeof CONTACT_LIST_FIELDS)[number];
const LIST_FIELD_SET = new Set<string>(CONTACT_LIST_FIELDS);

/** What an update's undo log keeps of the contact before: every column its input sets. */
const UNDO_COLUMNS = CONTACT_FIELD_COLUMNS;

/** One side of a merge: a contact's input and its settled fields (numbers and addresses read). */
interface Side {
  input: ContactInput;
  fields: ContactFields;
  /** The stored contact, if any: its numbers are named by their E.164 (so they keep their reading), a file's by their text as written. */
  stored?: ContactRow;
}

/** A list entry with what makes it the same entry as another. */
type Keyed<T> = { key: string; entry: T };

/** A list after the row by its policy; `add` keeps every stored entry, adds the row's new ones, and labels an unlabelled stored entry with the row's label. */
function mergeList<T extends { label?: string | null }>(
  stored: Keyed<T>[],
  row: Keyed<T>[],
  policy: FieldPolicy,
): Keyed<T>[] {
  if (row.length === 0 || policy === 'keep' || (policy === 'fill_empty' && stored.length > 0)) return stored;
  if (policy !== 'add') return row;
  const merged = stored.map((s) => ({ ...s }));
  for (const r of row) {
    const held = merged.find((m) => m.key === r.key);
    if (!held) merged.push(r);
    else if (!held.entry.label && r.entry.label) held.entry = { ...held.entry, label: r.entry.label };
  }
  return merged;
}

const addressKey = (a: PostalAddress) => ADDRESS_PARTS.map((part) => a[part]?.trim() ?? '').join('\u0000');

/**
 * The list fields after a row, by their policies (`add` by default); the row's primary number and
 * email first where the `phone`/`email` policy is `overwrite` (the default).
 */
function mergedLists(current: Side, incoming: Side, options: ImportOptions): ContactInput {
  const [was, now] = [detailsOf(current.fields), detailsOf(incoming.fields)];
  const storedNumbers = new Set(current.stored ? phonesOf(current.stored).map((p) => p.number ?? p.raw) : []);
  const byField = <T, E extends { label?: string | null }>(
    field: ListField,
    keyedOf: (t: T) => Keyed<E>,
    list: (d: typeof was) => T[],
  ) => mergeList(list(was).map(keyedOf), list(now).map(keyedOf), policyOf(options, field));
  /** The row's primary entry first where the `phone`/`email` policy lets the row say which is primary. */
  const primaryFirst = <E>(list: Keyed<E>[], field: 'phone' | 'email', rowPrimary: string | undefined) => {
    const wanted = rowPrimary !== undefined && policyOf(options, field) === 'overwrite';
    return firstAt(list, wanted ? list.findIndex((e) => e.key === rowPrimary) : -1).map((e) => e.entry);
  };
  const phoneKey = (p: ContactPhone) => p.number ?? p.raw;
  const phones = primaryFirst(
    byField(
      'phones',
      (p: ContactPhone) => ({
        key: phoneKey(p),
        entry: { number: storedNumbers.has(phoneKey(p)) ? phoneKey(p) : p.raw, label: p.label },
      }),
      (d) => d.phones,
    ),
    'phone',
    now.phones[0] && phoneKey(now.phones[0]),
  );
  const emails = primaryFirst(
    byField(
      'emails',
      (e: ContactEmail) => ({ key: e.address, entry: { address: e.address, label: e.label } }),
      (d) => d.emails,
    ),
    'email',
    now.emails[0]?.address,
  );
  const plain =
    <T>(keyOf: (t: T) => string) =>
    (entry: T) => ({ key: keyOf(entry), entry });
  const addresses = byField('addresses', plain(addressKey), (d) => d.addresses).map((e) => e.entry);
  const dates = byField(
    'dates',
    plain((d: ContactDate) => `${d.label}\u0000${d.date}`),
    (d) => d.dates,
  ).map((e) => e.entry);
  const urls = byField(
    'urls',
    plain((u: ContactUrl) => u.url),
    (d) => d.urls,
  ).map((e) => e.entry);
  return { phones, emails, addresses, dates, urls };
}

/**
 * A matched contact's fields after this row, by the import's per-field policy: text fields are
 * overwritten by default, lists (numbers, addresses, dates, links) added to, and the row's primary
 * number and address become the contact's primary ones as `phone`/`email` say; custom attributes
 * merge key by key.
 */
function merge(current: Side, incoming: Side, options: ImportOptions): ContactInput {
  const merged: ContactInput = { ...current.input };
  for (const field of POLICY_FIELDS) {
    const policy = policyOf(options, field);
    const value = incoming.input[field];
    if (LIST_FIELD_SET.has(field) || field === 'phone' || field === 'email') continue;
    if (value === undefined || value === null || policy === 'keep') continue;
    if (field === 'custom') {
      const base = current.input.custom ?? {};
      const add = value as Record<string, string | number | boolean>;
      merged.custom = policy === 'overwrite' ? { ...base, ...add } : { ...add, ...base };
    } else if (
      policy === 'overwrite' ||
      current.input[field] === null ||
      current.input[field] === undefined ||
      current.input[field] === ''
    ) {
      (merged as Record<string, unknown>)[field] = value;
    }
  }
  Object.assign(merged, mergedLists(current, incoming, options));
  // The lists say which entry is primary (their first): `phone` and `email` would only name it again.
  delete merged.phone;
  delete merged.email;
  if (incoming.input.external_ids)
    merged.external_ids = { ...current.input.external_ids, ...incoming.input.external_ids };
  return merged;
}

const sameFields = (row: ContactFields, fields: ContactFields) =>
  UNDO_COLUMNS.every((c) => row[c] === fields[c]);

/** Every email address a contact's fields hold, primary first. */
const emailAddressesOf = (f: ContactFields) => emailsOf(f).map((e) => e.address);

/**
 * The live contacts a batch's rows may match, and which of them this import has written
 * already. Several contacts may hold one number (where the organisation allows it) or email.
 */
interface Matches {
  byPhone: Map<string, ContactRow[]>;
  byEmail: Map<string, ContactRow[]>;
  byExternal: Map<string, ContactRow>;
  /** Live contacts with neither number nor email, by sort name. */
  byName: Map<string, ContactRow[]>;
  touched: Set<number>;
}

/** The rows to be created by this batch, by what later rows may match them on. */
interface Pending {
  byPhone: Map<string, ReadyRow[]>;
  byEmail: Map<string, ReadyRow[]>;
  byExternal: Map<string, ReadyRow>;
  byName: Map<string, ReadyRow[]>;
}

const externalIdOf = (ctx: BatchContext, p: ReadyRow) => p.input.external_ids?.[ctx.options.external_key];
const distinct = <T>(values: (T | null | undefined)[]) =>
  [...new Set(values)].filter((v): v is T => v !== null && v !== undefined);
/** A row with neither a number read nor an email: matched by its name and every other field. */
const unreachable = (f: ContactFields) => numbersOf(f).length === 0 && f.email === null;

/** Appends to a list under a key. */
function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** A contact under each of its numbers (or addresses), once under each. */
function index<V>(map: Map<string, V[]>, keys: readonly string[], value: V): void {
  for (const key of keys) if (!map.get(key)?.includes(value)) push(map, key, value);
}

async function lookUpMatches(scope: TenantScope, ctx: BatchContext, prepared: ReadyRow[]): Promise<Matches> {
  const phones = distinct(prepared.flatMap((p) => numbersOf(p.fields)));
  const emails = distinct(prepared.flatMap((p) => emailAddressesOf(p.fields)));
  const names = distinct(prepared.map((p) => (unreachable(p.fields) ? p.fields.sort_name : null)));
  const byPhone = new Map<string, ContactRow[]>();
  // A contact is found by any of its numbers and addresses, and indexed by all of them; no other
  // writer gives a contact one of these numbers until this batch commits.
  for (const r of await contacts.findLiveByPhonesToWrite(scope, phones, { everyNumber: true }))
    index(byPhone, numbersOf(r), r);
  const byEmail = new Map<string, ContactRow[]>();
  for (const r of await contacts.findLiveByEmails(scope, emails)) index(byEmail, emailAddressesOf(r), r);
  const byName = new Map<string, ContactRow[]>();
  for (const r of await contacts.findLiveUnreachableByNames(scope, names)) push(byName, r.sort_name, r);
  const system = ctx.options.external_key;
  const byExternal = new Map<string, ContactRow>();
  if (ctx.options.match === 'external_id') {
    const ids = distinct(prepared.map((p) => externalIdOf(ctx, p)));
    for (const r of await contacts.findLiveByExternalIds(scope, system, ids))
      byExternal.set(JSON.parse(r.external_ids)[system], r);
  }
  const touched = await imports.contactsTouchedByImport(
    scope,
    ctx.jobKey,
    [...byPhone.values(), ...byEmail.values(), ...byName.values(), [...byExternal.values()]]
      .flat()
      .map((r) => r.key),
  );
  return { byPhone, byEmail, byExternal, byName, touched };
}

const fieldsOfCandidate = (c: ContactRow | ReadyRow) => ('fields' in c ? c.fields : c);

/**
 * What a row matches by the import's rule: an external id; else any of its numbers, then any
 * of its email addresses, against any a contact holds, only where the names agree (a shared landline or address under two names is two people); a row
 * with neither is the contact of its name whose other fields it repeats, so importing one file
 * twice creates nobody the second time.
 */
function lookup<T extends ContactRow | ReadyRow>(
  ctx: BatchContext,
  p: ReadyRow,
  maps: {
    byPhone: Map<string, T[]>;
    byEmail: Map<string, T[]>;
    byExternal: Map<string, T>;
    byName: Map<string, T[]>;
  },
): T | undefined {
  if (ctx.options.match === 'external_id') {
    const id = externalIdOf(ctx, p);
    return id === undefined ? undefined : maps.byExternal.get(id);
  }
  const agrees = (c: T) => namesAgree(p.fields, fieldsOfCandidate(c));
  if (unreachable(p.fields))
    return maps.byName
      .get(p.fields.sort_name)
      ?.find((c) => agrees(c) && sameFields(fieldsOfCandidate(c), p.fields));
  for (const number of numbersOf(p.fields)) {
    const found = maps.byPhone.get(number)?.find(agrees);
    if (found) return found;
  }
  for (const address of emailAddressesOf(p.fields)) {
    const found = maps.byEmail.get(address)?.find(agrees);
    if (found) return found;
  }
  return undefined;
}

/**
 * Where the organisation keeps one live contact per number: the first number a row's contact
 * would take that a live contact or an earlier row of the batch holds, with its holder.
 */
function phoneHolderOf(
  ctx: BatchContext,
  fields: ContactFields,
  found: { matches: Matches; pending: Pending },
  self?: ContactRow | ReadyRow,
): { number: string; holder: ContactRow | ReadyRow } | undefined {
  if (ctx.org.allow_duplicate_phones) return undefined;
  for (const number of numbersOf(fields)) {
    const holder = phoneHolder<ContactRow | ReadyRow>(
      number,
      [...(found.matches.byPhone.get(number) ?? []), ...(found.pending.byPhone.get(number) ?? [])],
      (h) => h === self,
    );
    if (holder) return { number, holder };
  }
  return undefined;
}

/** A row's contact joins the import's groups and those the row names. */
function join(plan: Plan, member: Member, p: ReadyRow): void {
  plan.members.set(member, p.row);
  for (const name of p.groups) {
    let joining = plan.named.get(name);
    if (!joining) plan.named.set(name, (joining = new Map()));
    joining.set(member, p.row);
  }
}

/** A row matching a live contact in upsert mode: the contact updated or left unchanged, or the row failed. */
async function upsertInto(
  ctx: BatchContext,
  plan: Plan,
  found: { matches: Matches; pending: Pending },
  p: ReadyRow,
  match: ContactRow,
): Promise<void> {
  const earlier = plan.updates.get(match.key);
  const input = merge(
    earlier
      ? { input: earlier.input, fields: earlier.fields, stored: match }
      : { input: inputOf(decodeContact(match)), fields: match, stored: match },
    { input: p.input, fields: p.fields },
    ctx.options,
  );
  let fields: ContactFields;
  try {
    fields = await ctx.contacts.fieldsFrom(ctx.actor, ctx.org, input, { stored: match, onWarning: reported });
  } catch (error) {
    if (!(error instanceof DomainError) || error.code !== 'validation') throw error;
    return fail(plan, p, error.message);
  }
  const taken = phoneHolderOf(ctx, fields, found, match);
  if (taken) return fail(plan, p, `phone: ${taken.number} belongs to another contact`);
  // Later rows find the contact by the numbers and addresses this row gave it, too.
  index(found.matches.byPhone, numbersOf(fields), match);
  index(found.matches.byEmail, emailAddressesOf(fields), match);
  join(plan, match.key, p);
  if (sameFields(match, fields) && !earlier) plan.counts.unchanged += 1;
  else {
    plan.updates.set(match.key, { before: match, input, fields, row: p.row });
    plan.counts.updated += 1;
  }
}

/**
 * A row matching no contact: one to create, unless its number is taken, by a contact or an
 * earlier row under another name (then a conflict naming it, which is left as it is).
 */
function create(ctx: BatchContext, plan: Plan, found: { matches: Matches; pending: Pending }, p: ReadyRow) {
  const { pending } = found;
  const taken = phoneHolderOf(ctx, p.fields, found);
  if (taken) {
    const { number, holder } = taken;
    return fail(
      plan,
      p,
      'fields' in holder
        ? `phone: ${number} belongs to row ${holder.row} of this file, whose name differs`
        : `phone: ${number} belongs to contact ${holder.id} (${holder.display_name}), ` +
            'whose name differs; that contact is left as it is',
    );
  }
  const id = externalIdOf(ctx, p);
  index(pending.byPhone, numbersOf(p.fields), p);
  index(pending.byEmail, emailAddressesOf(p.fields), p);
  if (unreachable(p.fields)) push(pending.byName, p.fields.sort_name, p);
  if (id !== undefined) pending.byExternal.set(id, p);
  plan.creates.push(p);
  join(plan, p, p);
  plan.counts.created += 1;
}

function fail(plan: Plan, p: ReadyRow, reason: string): void {
  plan.errors.push({ row_number: p.row, reason, raw: JSON.stringify(p.input) });
  plan.counts.failed += 1;
}

/**
 * Decides what each row does: create, update (upsert), leave (skip) or fail. A row matches
 * a live contact by lookup's rule; a match that this import already created
 * or changed, or a row earlier in the batch, is a duplicate inside the file, handled by the same rule.
 */
async function decide(
  scope: TenantScope,
  ctx: BatchContext,
  prepared: ReadyRow[],
  plan: Plan,
): Promise<void> {
  const found = {
    matches: await lookUpMatches(scope, ctx, prepared),
    pending: { byPhone: new Map(), byEmail: new Map(), byExternal: new Map(), byName: new Map() } as Pending,
  };
  const mode = ctx.options.mode;
  for (const p of prepared) {
    const match = lookup(ctx, p, found.matches);
    const earlierRow = lookup(ctx, p, found.pending);
    if (mode === 'skip' && (match || earlierRow)) {
      plan.counts.skipped += 1;
      if (earlierRow || found.matches.touched.has(match!.key)) plan.counts.skipped_in_file += 1;
    } else if (mode === 'upsert' && earlierRow) {
      earlierRow.input = merge(
        { input: earlierRow.input, fields: earlierRow.fields },
        { input: p.input, fields: p.fields },
        ctx.options,
      );
      earlierRow.fields = await ctx.contacts.fieldsFrom(ctx.actor, ctx.org, earlierRow.input, {
        onWarning: reported,
      });
      index(found.pending.byPhone, numbersOf(earlierRow.fields), earlierRow);
      index(found.pending.byEmail, emailAddressesOf(earlierRow.fields), earlierRow);
      join(plan, earlierRow, p);
      plan.counts.updated += 1;
    } else if (mode === 'upsert' && match) {
      await upsertInto(ctx, plan, found, p, match);
    } else {
      create(ctx, plan, found, p);
    }
  }
}

/** Writes a batch's plan in the caller's transaction, with its undo log. */
async function write(scope: TenantScope, ctx: BatchContext, plan: Plan, now: number): Promise<void> {
  const changes: Parameters<typeof imports.insertImportChanges>[1] = [];
  const ids = new Map<ReadyRow, string>(plan.creates.map((p) => [p, uuidv7(now)]));
  const keys = await contacts.insertContacts(
    scope,
    plan.creates.map((p) => ({
      ...p.fields,
      id: ids.get(p)!,
      created_by: ctx.actor.userId,
      created_at: now,
      updated_at: now,
      deleted_at: null,
      version: 1,
    })),
  );
  const keyOf = (p: ReadyRow) => keys.get(ids.get(p)!)!;
  for (const p of plan.creates)
    changes.push({
      job_key: ctx.jobKey,
      row_number: p.row,
      kind: 'created',
      contact_key: keyOf(p),
      group_key: null,
      before: null,
      after_version: 1,
    });
  for (const [key, u] of plan.updates) {
    const updated = await contacts.updateContactRow(scope, u.before, {
      ...u.fields,
      updated_at: now,
    });
    if (!updated)
      throw new DomainError('conflict', 'a contact changed while the import ran; the batch will be retried');
    const before = Object.fromEntries(UNDO_COLUMNS.map((c) => [c, u.before[c]]));
    changes.push({
      job_key: ctx.jobKey,
      row_number: u.row,
      kind: 'updated',
      contact_key: key,
      group_key: null,
      before: JSON.stringify(before),
      after_version: updated.version,
    });
  }
  const written = [
    ...plan.creates.map((p) => ({ key: keyOf(p), id: ids.get(p)! })),
    ...[...plan.updates].map(([key, u]) => ({ key, id: u.before.id })),
  ];
  for (const [channel, status] of Object.entries(ctx.options.consent ?? {})) {
    for (const contact of written)
      await contacts.setConsent(scope, contact, channel as never, {
        status: status!,
        changed_at: now,
        source: 'import',
      });
  }
  const keyed = (members: Map<Member, number>) =>
    new Map([...members].map(([m, row]) => [typeof m === 'number' ? m : keyOf(m), row]));
  const addTo = async (groupKey: number, members: Map<Member, number>) => {
    const rows = keyed(members);
    const added = await memberships.addMembers(scope, groupKey, [...rows.keys()], ctx.actor.userId, now);
    for (const key of added)
      changes.push({
        job_key: ctx.jobKey,
        row_number: rows.get(key)!,
        kind: 'membership',
        contact_key: key,
        group_key: groupKey,
        before: null,
        after_version: null,
      });
  };
  for (const groupKey of ctx.groupKeys) await addTo(groupKey, plan.members);
  const named = await ctx.groups.keysByName(scope, ctx.actor, [...plan.named.keys()]);
  for (const [name, members] of plan.named) await addTo(named.get(name)!, members);
  await imports.insertImportChanges(scope, changes);
}

/** Imports one prepared batch inside the caller's transaction; returns what it did. */
export async function importBatch(
  scope: TenantScope,
  ctx: BatchContext,
  batch: PreparedBatch,
  now: number,
): Promise<{ counts: BatchCounts; errors: RowError[]; warnings: RowWarning[] }> {
  const plan: Plan = {
    creates: [],
    updates: new Map(),
    members: new Map(),
    named: new Map(),
    errors: [...batch.errors],
    warnings: batch.warnings,
    counts: {
      created: 0,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      skipped_in_file: 0,
      failed: batch.errors.length,
    },
  };
  // Copies: deciding merges later rows into earlier ones, and a batch run again must start afresh.
  await decide(
    scope,
    ctx,
    batch.ready.map((p) => ({ ...p })),
    plan,
  );
  await write(scope, ctx, plan, now);
  return { counts: plan.counts, errors: plan.errors, warnings: plan.warnings };
}
