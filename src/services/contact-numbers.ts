import { DomainError } from '../domain/errors.js';
import { phoneHolder } from '../domain/contact.js';
import * as contacts from '../db/repositories/contacts.js';
import { numbersOf, phonesOf, type ContactRow } from '../db/repositories/contact-codec.js';
import { concurrentDuplicate, isUniqueViolation } from '../db/errors.js';
import type { TenantScope } from '../db/scope.js';

/*
 * The identity rule, one live contact per number, on every number a contact holds: who holds a
 * number, and the 409 that names it.
 */

/**
 * A concurrent writer can take a number between our check and our write; the unique index
 * catches it, and the transaction runs again to find the holder (ensurePhoneFree).
 */
export const duplicatePhoneOr = (error: unknown, phone: string | null) =>
  isUniqueViolation(error) && phone ? concurrentDuplicate(error) : error;

export const duplicatePhone = (holderId: string, field: string) =>
  new DomainError('duplicate_phone', 'Another contact already has this phone number', {
    existing_contact_id: holderId,
    fields: [{ field, message: 'belongs to another contact' }],
  });

export type NumberColumns = Pick<ContactRow, 'phone' | 'phone_raw' | 'phone_valid' | 'phones'>;

/**
 * The first of a contact's numbers (but those in `kept`) that another live contact holds, as
 * its primary number or another, with the field naming it (`phone`, `phones[1].number`) and the
 * holder: the one-contact-per-number rule (phoneHolder) on every number, where the organisation keeps it.
 */
export async function numberHeldElsewhere(
  scope: TenantScope,
  contact: NumberColumns,
  ownKey: number | undefined,
  kept: ReadonlySet<string> = new Set(),
): Promise<{ number: string; field: string; holder: ContactRow } | undefined> {
  const numbers = phonesOf(contact)
    .map((p, i) => ({ number: p.number, field: i === 0 ? 'phone' : `phones[${i}].number` }))
    .filter((n): n is { number: string; field: string } => n.number !== null && !kept.has(n.number));
  if (numbers.length === 0) return undefined;
  const holders = await contacts.findLiveByPhonesToWrite(
    scope,
    numbers.map((n) => n.number),
  );
  for (const { number, field } of numbers) {
    const holder = phoneHolder(
      number,
      holders.filter((h) => numbersOf(h).includes(number)),
      (h) => h.key === ownKey,
    );
    if (holder) return { number, field, holder };
  }
  return undefined;
}
