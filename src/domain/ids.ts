import { randomUUID } from 'node:crypto';

/**
 * RFC 9562 UUID version 7: time-ordered, so new rows append to the end of indexes. Its random
 * bits come from a version 4 UUID (whose variant bits are v7's too): randomUUID draws from a
 * cached pool, where randomBytes(16) asks the system on every call.
 */
export function uuidv7(now = Date.now()): string {
  const time = now.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8)}-7${randomUUID().slice(15)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);

/** How services address a contact or a group: by its UUID (/v1, seeds 000 and 002) or integer key (seeds 001, 003). */
export type RecordBy = { id: string } | { key: number };

/** An id or key that can name a record at all; anything else is a 404 without a query. */
export const isWellFormed = (by: RecordBy) => ('id' in by ? isUuid(by.id) : Number.isSafeInteger(by.key));

/**
 * Mongo-style 24-hex ids for the seed API that used MongoDB (001). They are derived from
 * the record's integer key and its kind, so they need no lookup table, never change,
 * and an id of one kind never opens a record of another.
 */
export type ObjectIdKind = 'contact' | 'group' | 'user';
const KIND_PREFIX: Record<ObjectIdKind, string> = { contact: '64c0', group: '64a0', user: '64e0' };

export function toObjectId(kind: ObjectIdKind, key: number): string {
  return KIND_PREFIX[kind] + key.toString(16).padStart(20, '0');
}

export function fromObjectId(kind: ObjectIdKind, id: string): number | undefined {
  if (!/^[0-9a-f]{24}$/.test(id) || !id.startsWith(KIND_PREFIX[kind])) return undefined;
  const key = Number.parseInt(id.slice(4), 16);
  return Number.isSafeInteger(key) && key > 0 ? key : undefined;
}
