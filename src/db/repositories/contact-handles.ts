import type { ContactsTable } from '../schema.js';
import type { TenantScope } from '../scope.js';
import { chunks } from './chunks.js';
import { otherHandlesOf } from './contact-codec.js';

/*
 * contact_handles: the numbers (E.164) and addresses each contact holds besides its primary
 * ones, a row each, for live and deleted contacts alike (a restore or an undone merge brings
 * them back with the contact). Kept by the contacts repository's writers, in their transaction,
 * from the phones and emails columns (otherHandlesOf), so that every path writing a contact does.
 */

/** The columns the handles are made from: a write that changes neither leaves them as they are. */
export const HANDLE_COLUMNS = ['phones', 'emails'] as const satisfies readonly (keyof ContactsTable)[];

export type HandledContact = Pick<ContactsTable, (typeof HANDLE_COLUMNS)[number]> & { key: number };

const HANDLE_TYPES = [
  ['contact_key', 'bigint'],
  ['kind', 'text'],
  ['value', 'text'],
] as const;

const rowsOf = (contacts: HandledContact[]) =>
  contacts.flatMap((c) => otherHandlesOf(c).map((h) => ({ ...h, contact_key: c.key })));

/**
 * Brings these contacts' handles in line with their columns as now written. `fresh`: new
 * contacts, with none yet (a bulk insert's handles are one statement a chunk).
 */
export async function syncContactHandles(
  scope: TenantScope,
  contacts: HandledContact[],
  fresh = false,
): Promise<void> {
  if (contacts.length === 0) return;
  if (!fresh)
    for (const chunk of chunks(contacts.map((c) => c.key)))
      await scope.deleteFrom('contact_handles').where('contact_key', 'in', chunk).execute();
  await scope.insertMany('contact_handles', HANDLE_TYPES, rowsOf(contacts));
}

/** The keys of the contacts (live or not) holding one of these values besides their primary one. */
export function handleHolders(scope: TenantScope, kind: 'phone' | 'email', values: string[]) {
  return scope
    .selectFrom('contact_handles')
    .select('contact_handles.contact_key as key')
    .where('contact_handles.kind', '=', kind)
    .where('contact_handles.value', 'in', values);
}
