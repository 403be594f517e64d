import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Request and response shapes of the SMS gateway's contact API (seed 003), as its document shows them. */
export const NumericId = Type.Union(
  [Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[0-9]{1,15}$' })],
  {
    description: 'An integer id; the document also sends it as a string of digits',
  },
);

const text = (maxLength: number) => Type.String({ maxLength });
// An SMS address-book entry without a number is of no use: the number may change, never go.
const phoneNumber = Type.String({ minLength: 1, maxLength: 40 });
const contactFields = {
  first_name: Type.Optional(text(200)),
  last_name: Type.Optional(text(200)),
  company: Type.Optional(text(200)),
  custom_1: Type.Optional(text(1000)),
  custom_2: Type.Optional(text(1000)),
  custom_3: Type.Optional(text(1000)),
  custom_4: Type.Optional(text(1000)),
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
    page: Type.Optional(Type.Integer({ minimum: 1 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);

const success = <T extends TSchema>(result: T) => Type.Object({ status: Type.Literal('success'), result });

export const IdResult = success(Type.Object({ id: Type.Integer() }));
export const ContactShape = Type.Object({
  id: Type.Integer(),
  first_name: Type.String(),
  last_name: Type.String(),
  company: Type.String(),
  phone_number: Type.String(),
  custom_1: Type.String(),
  custom_2: Type.String(),
  custom_3: Type.String(),
  custom_4: Type.String(),
});
export const ContactDetail = success(Type.Object({ contact: ContactShape }));
const GroupShape = Type.Object({ id: Type.Integer(), name: Type.String(), contacts_count: Type.Integer() });
export const GroupDetail = success(Type.Object({ group: GroupShape }));
export const GroupPage = success(
  Type.Object({
    groups: Type.Array(GroupShape),
    page: Type.Integer(),
    limit: Type.Integer(),
    total: Type.Integer(),
  }),
);
export const ErrorBody = Type.Object({
  status: Type.Literal('error'),
  error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }),
});
