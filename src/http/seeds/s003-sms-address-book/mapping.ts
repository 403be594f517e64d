import { phoneDigits } from '../../../domain/phone.js';
import type { Contact, Group } from '../../../domain/records.js';
import type { ContactNew } from './schemas.js';

/* Seed 003's contacts and address books, strings throughout, onto Roster's records and back. */

const CUSTOM = ['custom_1', 'custom_2', 'custom_3', 'custom_4'] as const;

/** The document's contact: strings throughout, "" where Roster holds nothing. */
export function contactOut(c: Contact) {
  const custom = (name: string) => (c.custom[name] === undefined ? '' : String(c.custom[name]));
  return {
    id: c.key,
    first_name: c.first_name ?? '',
    last_name: c.last_name ?? '',
    company: c.company ?? '',
    phone_number: c.phone ? phoneDigits(c.phone) : '',
    custom_1: custom('custom_1'),
    custom_2: custom('custom_2'),
    custom_3: custom('custom_3'),
    custom_4: custom('custom_4'),
  };
}

export const groupOut = (g: Group) => ({ id: g.key, name: g.name, contacts_count: g.member_count });

/** Only the fields sent change; custom_1..custom_4 merge into the contact's custom attributes. */
export function contactIn(body: Partial<ContactNew>) {
  const custom = Object.fromEntries(CUSTOM.filter((k) => body[k] !== undefined).map((k) => [k, body[k]!]));
  return {
    ...(body.first_name !== undefined && { first_name: body.first_name }),
    ...(body.last_name !== undefined && { last_name: body.last_name }),
    ...(body.company !== undefined && { company: body.company }),
    ...(body.phone_number !== undefined && { phone: body.phone_number }),
    ...(Object.keys(custom).length > 0 && { custom }),
  };
}
