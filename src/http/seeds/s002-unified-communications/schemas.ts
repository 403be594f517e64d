import { Type, type Static } from '@sinclair/typebox';
import { CONTACT_LIMITS } from '../../../domain/contact.js';
import { Count, E164, Nullable, Text, Timestamp, Uuid } from '../../openapi.js';

/** Shapes of the church platform's unified-communications contact groups (seed 002), as its document shows them. */
const Name = Nullable(Text(CONTACT_LIMITS.name));
const Email = Nullable(Type.String({ format: 'email', maxLength: 254 }));
const LegacyId = Nullable(Text(200));

const ManualContact = Type.Object(
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
  id: Type.Optional(Text(100)),
  updated_at: Type.Optional(Text(40)),
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
  legacy_id: LegacyId,
  nextgen_legacy_id: LegacyId,
  created_at: Timestamp,
  updated_at: Timestamp,
  first_name: Name,
  middle_name: Name,
  last_name: Name,
  phone: Nullable(E164),
  email: Email,
  avatar: Nullable(Text(CONTACT_LIMITS.url)),
  is_manual: Type.Boolean(),
});
// The document's group holds all its members: its shape has no pagination for them.
export const GroupOut = Type.Object({
  id: Uuid,
  user_ids: Type.Array(Uuid),
  manual_contacts: Type.Array(
    Type.Object({
      first_name: Name,
      middle_name: Name,
      last_name: Name,
      phone: Nullable(E164),
      email: Email,
    }),
  ),
  contacts: Type.Array(ContactOut),
  legacy_id: LegacyId,
  nextgen_legacy_id: LegacyId,
  created_at: Timestamp,
  updated_at: Timestamp,
  name: Text(100),
  thumbnail: Nullable(Text(2048)),
  church: Uuid,
});
const PageLink = Nullable(
  Type.String({ pattern: '^https?://', maxLength: 16_384, description: 'The URL of another page' }),
);
export const GroupPage = Type.Object({
  count: Count,
  next: PageLink,
  previous: PageLink,
  results: Type.Array(GroupOut, { maxItems: 100 }),
});
