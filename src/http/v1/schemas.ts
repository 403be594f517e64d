import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CHANNELS, CONTACT_LIMITS, CUSTOM_LIMITS } from '../../domain/contact.js';
import { ROLES } from '../../domain/roles.js';

/**
 * The /v1 resources. Each schema drives request validation, response serialisation,
 * the TypeScript types of the handlers and the OpenAPI document.
 */
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Text = (maxLength: number, description?: string) => Type.String({ maxLength, description });
const Timestamp = Type.String({ format: 'date-time' });
const Id = Type.String({ format: 'uuid', description: 'A UUID' });

export const Channel = Type.Union(
  CHANNELS.map((c) => Type.Literal(c)),
  { description: 'A messaging channel' },
);
export const ConsentStatus = Type.Union([Type.Literal('subscribed'), Type.Literal('unsubscribed')]);
const CustomValue = Type.Union([
  Type.String({ maxLength: CUSTOM_LIMITS.maxStringLength }),
  Type.Number(),
  Type.Boolean(),
]);
const Custom = Type.Record(Type.String({ maxLength: CUSTOM_LIMITS.maxKeyLength }), CustomValue, {
  maxProperties: CUSTOM_LIMITS.maxKeys,
  description: `Custom attributes: at most ${CUSTOM_LIMITS.maxKeys} keys of A-Z a-z 0-9 _ . - (up to ${CUSTOM_LIMITS.maxKeyLength} characters); values are strings (up to ${CUSTOM_LIMITS.maxStringLength} characters), numbers or booleans`,
});
const ExternalIds = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 200 }), {
  maxProperties: 20,
  description: 'Ids of this record in other systems, e.g. {"legacy": "1234"}',
});

const ConsentEntry = Type.Object(
  { status: ConsentStatus, at: Timestamp, source: Type.String() },
  { additionalProperties: false },
);
const ConsentWrite = Type.Partial(
  Type.Record(
    Channel,
    Type.Union([
      ConsentStatus,
      Type.Object(
        { status: ConsentStatus, source: Type.Optional(Text(100)) },
        { additionalProperties: false },
      ),
    ]),
  ),
  {
    description: 'Consent per channel: "subscribed" or "unsubscribed", optionally with its source',
    additionalProperties: false,
  },
);

const contactFields = {
  name: Nullable(Text(CONTACT_LIMITS.name, 'Display name; derived from the name parts when not given')),
  first_name: Nullable(Text(CONTACT_LIMITS.name)),
  middle_name: Nullable(Text(CONTACT_LIMITS.name)),
  last_name: Nullable(Text(CONTACT_LIMITS.name)),
  company: Nullable(Text(CONTACT_LIMITS.company)),
  phone: Nullable(
    Text(40, "Any format; local numbers are read in the organisation's default country and stored as E.164"),
  ),
  email: Nullable(Text(254)),
  channel: Nullable(Channel),
  avatar_url: Nullable(Text(CONTACT_LIMITS.url)),
  language: Nullable(Text(CONTACT_LIMITS.language)),
  custom: Custom,
  external_ids: ExternalIds,
  user_id: Nullable(Id),
  consent: ConsentWrite,
};

export const ContactWrite = Type.Partial(Type.Object(contactFields, { additionalProperties: false }), {
  additionalProperties: false,
  $id: 'ContactWrite',
});
export type ContactWrite = Static<typeof ContactWrite>;

export const ContactMergePatch = Type.Partial(
  Type.Object(
    {
      ...contactFields,
      custom: Type.Record(Type.String({ maxLength: CUSTOM_LIMITS.maxKeyLength }), Nullable(CustomValue), {
        maxProperties: CUSTOM_LIMITS.maxKeys,
      }),
    },
    { additionalProperties: false },
  ),
  { additionalProperties: false, $id: 'ContactMergePatch' },
);
export type ContactMergePatch = Static<typeof ContactMergePatch>;

export const Contact = Type.Object(
  {
    id: Id,
    name: Type.String(),
    first_name: Nullable(Type.String()),
    middle_name: Nullable(Type.String()),
    last_name: Nullable(Type.String()),
    company: Nullable(Type.String()),
    phone: Nullable(Type.String({ description: 'E.164' })),
    phone_raw: Nullable(Type.String({ description: 'The phone as it was given' })),
    phone_valid: Nullable(
      Type.Boolean({
        description: 'True when the number is in a valid, assigned range; false when only possible',
      }),
    ),
    email: Nullable(Type.String()),
    channel: Nullable(Channel),
    avatar_url: Nullable(Type.String()),
    language: Nullable(Type.String()),
    custom: Custom,
    external_ids: ExternalIds,
    consent: Type.Partial(Type.Record(Channel, ConsentEntry)),
    user_id: Nullable(Id),
    created_by: Nullable(Type.String()),
    created_at: Timestamp,
    updated_at: Timestamp,
    deleted_at: Nullable(Timestamp),
    version: Type.Integer(),
  },
  { $id: 'Contact' },
);

export const Group = Type.Object(
  {
    id: Id,
    name: Type.String(),
    description: Nullable(Type.String()),
    translations: Type.Record(
      Type.String(),
      Type.Object({ name: Type.String(), description: Type.Optional(Nullable(Type.String())) }),
    ),
    is_active: Type.Boolean(),
    is_default: Type.Boolean(),
    thumbnail_url: Nullable(Type.String()),
    external_ids: ExternalIds,
    member_count: Type.Integer(),
    created_by: Nullable(Type.String()),
    created_at: Timestamp,
    updated_at: Timestamp,
    version: Type.Integer(),
  },
  { $id: 'Group' },
);

const groupFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  description: Nullable(Text(2000)),
  translations: Type.Record(
    Type.String({ maxLength: 35 }),
    Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 100 }),
        description: Type.Optional(Nullable(Text(2000))),
      },
      { additionalProperties: false },
    ),
    { maxProperties: 50 },
  ),
  is_active: Type.Boolean(),
  is_default: Type.Boolean(),
  thumbnail_url: Nullable(Text(CONTACT_LIMITS.url)),
  external_ids: ExternalIds,
};
export const GroupCreate = Type.Object(
  {
    ...groupFields,
    name: Type.Optional(groupFields.name),
    description: Type.Optional(groupFields.description),
    translations: Type.Optional(groupFields.translations),
    is_active: Type.Optional(groupFields.is_active),
    is_default: Type.Optional(groupFields.is_default),
    thumbnail_url: Type.Optional(groupFields.thumbnail_url),
    external_ids: Type.Optional(groupFields.external_ids),
  },
  { additionalProperties: false, $id: 'GroupWrite' },
);
export type GroupCreate = Static<typeof GroupCreate>;

export const MemberIds = Type.Object(
  { contact_ids: Type.Array(Id, { minItems: 1, maxItems: 10_000 }) },
  { additionalProperties: false, $id: 'MemberIds' },
);

export const User = Type.Object(
  {
    id: Id,
    username: Type.String(),
    display_name: Type.String(),
    email: Nullable(Type.String()),
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    is_active: Type.Boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
    version: Type.Integer(),
  },
  { $id: 'User' },
);
const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
export const UserCreate = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^:\\s]+$' }),
    password: Type.String({ minLength: 8, maxLength: 200 }),
    display_name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    email: Type.Optional(Nullable(Type.String({ maxLength: 254, format: 'email' }))),
    role: Role,
  },
  { additionalProperties: false },
);
export const UserPatch = Type.Object(
  {
    display_name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    email: Type.Optional(Nullable(Type.String({ maxLength: 254, format: 'email' }))),
    role: Type.Optional(Role),
    is_active: Type.Optional(Type.Boolean()),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const ApiKey = Type.Object(
  {
    id: Id,
    user_id: Id,
    name: Type.String(),
    prefix: Type.String({ description: 'The first characters of the key, to tell keys apart' }),
    last_used_at: Nullable(Timestamp),
    revoked_at: Nullable(Timestamp),
    created_at: Timestamp,
    key: Type.Optional(Type.String({ description: 'The key itself: shown once, at creation' })),
  },
  { $id: 'ApiKey' },
);

export const Organisation = Type.Object(
  {
    id: Id,
    name: Type.String(),
    default_country: Type.String({ description: 'ISO 3166-1 alpha-2; reads local-format phone numbers' }),
    default_language: Type.String(),
    allow_duplicate_phones: Type.Boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
    version: Type.Integer(),
  },
  { $id: 'Organisation' },
);
export const OrganisationPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    default_country: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2}$' })),
    default_language: Type.Optional(Type.String({ minLength: 2, maxLength: 35 })),
    allow_duplicate_phones: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    request_id: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', additionalProperties: true },
);

/** The failures every versioned resource's routes can answer (412 and 428 come from If-Match). */
export const problemResponses = {
  400: Problem,
  401: Problem,
  403: Problem,
  404: Problem,
  409: Problem,
  412: Problem,
  428: Problem,
};

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), next_cursor: Nullable(Type.String()) });
export const IdParam = Type.Object({ id: Id });
export const Limit = Type.Integer({ minimum: 1, maximum: 1000, default: 50 });
