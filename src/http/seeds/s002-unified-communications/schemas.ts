import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Shapes of the church platform's unified-communications contact groups (seed 002), as its document shows them. */
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Uuid = Type.String({ format: 'uuid' });
const Timestamp = Type.String({ format: 'date-time' });

export const ManualContact = Type.Object(
  {
    first_name: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    middle_name: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    last_name: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    phone: Type.Optional(Nullable(Type.String({ maxLength: 40 }))),
    email: Type.Optional(Nullable(Type.String({ maxLength: 254 }))),
  },
  { additionalProperties: false },
);

// id and updated_at are read-only: accepted and ignored on write, as Django REST Framework does.
const fields = {
  id: Type.Optional(Type.String()),
  updated_at: Type.Optional(Type.String()),
  user_ids: Type.Optional(Type.Array(Uuid, { maxItems: 10_000 })),
  manual_contacts: Type.Optional(Type.Array(ManualContact, { maxItems: 10_000 })),
  legacy_id: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  nextgen_legacy_id: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  created_at: Type.Optional(Nullable(Timestamp)),
  thumbnail: Type.Optional(Nullable(Type.String({ format: 'uri', maxLength: 2048 }))),
};
export const GroupWrite = Type.Object({ ...fields, name: Type.String({ maxLength: 100 }), church: Uuid });
export type GroupWrite = Static<typeof GroupWrite>;
export const GroupPatch = Type.Object({
  ...fields,
  name: Type.Optional(Type.String({ maxLength: 100 })),
  church: Type.Optional(Uuid),
});
export type GroupPatch = Static<typeof GroupPatch>;
export const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
export const PageQuery = Type.Object({
  page: Type.Optional(
    Type.String({ maxLength: 20, description: 'A page number within the paginated result set.' }),
  ),
  page_size: Type.Optional(
    Type.String({ maxLength: 20, description: 'Number of results to return per page (at most 100).' }),
  ),
});

const ContactOut = Type.Object({
  id: Uuid,
  legacy_id: Nullable(Type.String()),
  nextgen_legacy_id: Nullable(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
  first_name: Nullable(Type.String()),
  middle_name: Nullable(Type.String()),
  last_name: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  email: Nullable(Type.String()),
  avatar: Nullable(Type.String()),
  is_manual: Type.Boolean(),
});
export const GroupOut = Type.Object({
  id: Uuid,
  user_ids: Type.Array(Uuid),
  manual_contacts: Type.Array(
    Type.Object({
      first_name: Nullable(Type.String()),
      middle_name: Nullable(Type.String()),
      last_name: Nullable(Type.String()),
      phone: Nullable(Type.String()),
      email: Nullable(Type.String()),
    }),
  ),
  contacts: Type.Array(ContactOut),
  legacy_id: Nullable(Type.String()),
  nextgen_legacy_id: Nullable(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
  name: Type.String(),
  thumbnail: Nullable(Type.String()),
  church: Uuid,
});
export const GroupPage = Type.Object({
  count: Type.Integer(),
  next: Nullable(Type.String()),
  previous: Nullable(Type.String()),
  results: Type.Array(GroupOut),
});
export const DrfError = Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())]));
