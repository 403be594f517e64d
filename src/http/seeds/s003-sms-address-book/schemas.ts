import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Count, errorResponses, Key, Text } from '../../openapi.js';

/** Request and response shapes of the SMS gateway's contact API (seed 003), as its document shows them. */
const NumericId = Type.Union([Key, Type.String({ pattern: '^[0-9]{1,15}$', maxLength: 15 })], {
  description: 'An integer id; the document also sends it as a string of digits',
});

// An SMS address-book entry without a number is of no use: the number may change, never go.
const phoneNumber = Type.String({ minLength: 1, maxLength: 40 });
const contactFields = {
  first_name: Type.Optional(Text(200)),
  last_name: Type.Optional(Text(200)),
  company: Type.Optional(Text(200)),
  custom_1: Type.Optional(Text(1000)),
  custom_2: Type.Optional(Text(1000)),
  custom_3: Type.Optional(Text(1000)),
  custom_4: Type.Optional(Text(1000)),
};

export const ContactNew = Type.Object(
  { group_id: NumericId, phone_number: phoneNumber, ...contactFields },
  { additionalProperties: false },
);
export type ContactNew = Static<typeof ContactNew>;
export const ContactEdit = Type.Object(
  {
    id: NumericId,
    group_id: Type.Optional(NumericId),
    phone_number: Type.Optional(phoneNumber),
    ...contactFields,
  },
  { additionalProperties: false },
);
export type ContactEdit = Static<typeof ContactEdit>;
export const ById = Type.Object({ id: NumericId }, { additionalProperties: false });
export const GroupNew = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);
export const GroupEdit = Type.Object(
  { id: NumericId, name: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);
export const GroupList = Type.Object(
  {
    page: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 2 ** 31 - 1 })),
    limit: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);

const success = <T extends TSchema>(result: T) => Type.Object({ status: Type.Literal('success'), result });

const Digits = Type.String({
  pattern: '^[0-9]*$',
  maxLength: 15,
  description: 'E.164 digits without the plus',
});
export const IdResult = success(Type.Object({ id: Key }));
export const ContactShape = Type.Object({
  id: Key,
  first_name: Text(200),
  last_name: Text(200),
  company: Text(200),
  phone_number: Digits,
  custom_1: Text(1000),
  custom_2: Text(1000),
  custom_3: Text(1000),
  custom_4: Text(1000),
});
export const ContactDetail = success(Type.Object({ contact: ContactShape }));
const GroupShape = Type.Object({ id: Key, name: Text(100), contacts_count: Count });
export const GroupDetail = success(Type.Object({ group: GroupShape }));
export const GroupPage = success(
  Type.Object({
    groups: Type.Array(GroupShape, { maxItems: 1000 }),
    page: Type.Integer({ format: 'int32', minimum: 1, maximum: 2 ** 31 - 1 }),
    limit: Type.Integer({ format: 'int32', minimum: 1, maximum: 1000 }),
    total: Count,
  }),
);
export const ErrorBody = Type.Object({
  status: Type.Literal('error'),
  error: Type.Object({
    code: Type.String({ pattern: '^[a-z_]+$', maxLength: 50 }),
    message: Text(10_000),
    field: Type.Optional(Text(500)),
  }),
});

/** Adds the errors this surface's handler can give to a route's schema (see errorResponses); its 401 names no scheme. */
export const withErrors = errorResponses(ErrorBody, { challenges: false });
