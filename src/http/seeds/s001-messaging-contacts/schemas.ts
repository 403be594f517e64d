import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CHANNELS } from '../../../domain/contact.js';
import { Count, errorResponses, Nullable, Text, Timestamp } from '../../openapi.js';

/** Shapes of the WhatsApp platform's contacts and contact groups (seed 001), as its document shows them. */
const ObjectId = Type.String({
  pattern: '^[0-9a-fA-F]{24}$',
  maxLength: 24,
  description: 'A 24-character hex id',
});

// Every body may carry the document's session fields; unknown keys (the PUT example's title, keyword, reply) are ignored.
const session = {
  session_id: Type.Optional(Type.String({ maxLength: 500 })),
  access_token: Type.Optional(Type.String({ maxLength: 2000 })),
};
export const Transaction = Type.Object(
  {
    survey_id: Nullable(Type.String({ maxLength: 100 })),
    survey_sort_id: Nullable(Type.Union([Type.String({ maxLength: 100 }), Type.Number()])),
  },
  { additionalProperties: false },
);
const Channel = Type.Union(CHANNELS.map((c) => Type.Literal(c)));
const contactFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  number: Type.Union([
    Type.String({ minLength: 1, maxLength: 40 }),
    Type.Integer({ format: 'int64', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  ]),
  group_id: Nullable(ObjectId),
  channel: Channel,
  transaction: Transaction,
};
export const SessionBody = Type.Object(session);
export const ContactCreate = Type.Object({
  ...session,
  name: contactFields.name,
  number: contactFields.number,
  group_id: Type.Optional(contactFields.group_id),
  channel: Type.Optional(contactFields.channel),
  transaction: Type.Optional(contactFields.transaction),
});
export type ContactCreate = Static<typeof ContactCreate>;
export const ContactUpdate = Type.Object({
  ...session,
  ...Type.Partial(Type.Object(contactFields)).properties,
});
export type ContactUpdate = Static<typeof ContactUpdate>;
export const GroupWrite = Type.Object({ ...session, title: Type.String({ minLength: 1, maxLength: 100 }) });

export const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
export const ContactsQuery = Type.Object({
  type: Type.Optional(
    Type.Literal('all', {
      description: 'all: every contact of the organisation; otherwise only the caller’s own',
    }),
  ),
  limit: Type.Optional(
    Type.Integer({
      format: 'int32',
      minimum: 1,
      maximum: 1000,
      default: 1000,
      description: 'Roster addition: at most this many, newest first',
    }),
  ),
  cursor: Type.Optional(
    Type.String({ maxLength: 500, description: 'Roster addition: the x-next-cursor of the previous answer' }),
  ),
});

const Creator = Type.String({
  pattern: '^([0-9a-f]{24})?$',
  maxLength: 24,
  description: "The creating user's id; empty when unknown",
});
export const ContactShape = Type.Object({
  _id: ObjectId,
  name: Text(200),
  number: Type.String({ pattern: '^[0-9]*$', maxLength: 15, description: 'E.164 digits without the plus' }),
  client_id: Creator,
  group_id: Nullable(ObjectId),
  channel: Channel,
  transaction: Transaction,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  __v: Count,
});
export const GroupShape = Type.Object({
  is_default: Type.Boolean(),
  _id: ObjectId,
  title: Text(100),
  client_id: Creator,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  __v: Count,
});
const One = Type.Integer({ format: 'int32', minimum: 1, maximum: 1 });
export const DeleteResult = Type.Object({ n: One, ok: One, deletedCount: One });

export const envelope = <T extends TSchema>(data: T) =>
  Type.Object({ status: Type.Literal(true), message: Text(200), data });
export const ErrorBody = Type.Object({ status: Type.Literal(false), message: Text(10_000) });

/**
 * Adds this surface's errors to a route's schema: it reads any body as JSON or a form (so never
 * 415), GET bodies included, which may be too large on any route; its 401 names no scheme.
 */
export const withErrors = errorResponses(ErrorBody, { reads: [], also: [413], challenges: false });
