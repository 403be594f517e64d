import type { Static } from '@sinclair/typebox';
import type { Extensions } from '../../../domain/contact.js';
import { invalid, notFound } from '../../../domain/errors.js';
import { fromObjectId, type ObjectIdKind } from '../../../domain/ids.js';
import type { Contact } from '../../../domain/records.js';
import type { Transaction } from './schemas.js';

/* Seed 001's Mongo-style ids onto Roster's integer keys. */

/** A 24-hex id of the given kind to the record's key; anything else names no record of that kind. */
export function keyOf(kind: ObjectIdKind, id: string): number {
  const key = fromObjectId(kind, id.toLowerCase());
  if (key === undefined) throw notFound(kind === 'group' ? 'ContactGroup' : 'Contact');
  return key;
}

/** A group_id in a body: malformed is the client's mistake (400); well-formed but unknown is a 404 later. */
export function groupKeyOf(id: string): number {
  const key = fromObjectId('group', id.toLowerCase());
  if (key === undefined) throw invalid('group_id', 'is not a contact group id');
  return key;
}

/* The survey state seed 001 keeps per contact, as this surface's extension of the contact (Roster has no such field). */

const EXTENSION = 'seed-001';
type SurveyState = Static<typeof Transaction>;

export const transactionOf = (c: Contact): SurveyState =>
  (c.extensions[EXTENSION]?.transaction as SurveyState | undefined) ?? {
    survey_id: null,
    survey_sort_id: null,
  };

export const withTransaction = (transaction: SurveyState): Extensions => ({ [EXTENSION]: { transaction } });
