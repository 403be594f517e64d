import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CHANNELS } from '../../../domain/contact.js';

/** Shapes of the WhatsApp platform's contacts and contact groups (seed 001), as its document shows them. */
const ObjectId = Type.String({ pattern: '^[0-9a-fA-F]{24}$', description: 'A 24-character hex id' });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

// Every body may carry the document's session fields; unknown keys (the PUT example's title, keyword, reply) are ignored.
const session = {
  session_id: Type.Optional(Type.String({ maxLength: 500 })),
  access_token: Type.Optional(Type.String({ maxLength: 2000 })),
};
const Transaction = Type.Object(
  {
    survey_id: Nullable(Type.String({ maxLength: 100 })),
    survey_sort_id: Nullable(Type.Union([Type.String({ maxLength: 100 }), Type.Number()])),
  },
  { additionalProperties: false },
);
const contactFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  number: Type.Union([Type.String({ minLength: 1, maxLength: 40 }), Type.Integer({ minimum: 0 })]),
  group_id: Nullable(ObjectId),
  channel: Type.Union(CHANNELS.map((c) => Type.Literal(c))),
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
export const ContactListQuery = Type.Object({
  type: Type.Optional(
    Type.Literal('all', {
      description: 'all: every contact of the organisation; otherwise only the caller’s own',
    }),
  ),
  limit: Type.Optional(
    Type.Integer({
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

const Timestamp = Type.String({ format: 'date-time' });
export const ContactShape = Type.Object({
  _id: Type.String(),
  name: Type.String(),
  number: Type.String(),
  client_id: Type.String(),
  group_id: Nullable(Type.String()),
  channel: Type.String(),
  transaction: Type.Object({
    survey_id: Nullable(Type.String()),
    survey_sort_id: Nullable(Type.Union([Type.String(), Type.Number()])),
  }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  __v: Type.Integer(),
});
export const GroupShape = Type.Object({
  is_default: Type.Boolean(),
  _id: Type.String(),
  title: Type.String(),
  client_id: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  __v: Type.Integer(),
});
export const DeleteResult = Type.Object({
  n: Type.Integer(),
  ok: Type.Integer(),
  deletedCount: Type.Integer(),
});

export const envelope = <T extends TSchema>(data: T) =>
  Type.Object({ status: Type.Literal(true), message: Type.String(), data });
export const ErrorBody = Type.Object({ status: Type.Literal(false), message: Type.String() });
