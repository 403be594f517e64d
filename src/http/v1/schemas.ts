import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CHANNELS, CONTACT_LIMITS, CUSTOM_LIMITS } from '../../domain/contact.js';
import { DATE_PATTERN, DATE_RULE, DETAIL_LIMITS } from '../../domain/contact-details.js';
import { MAX_UNREAD_LENGTH } from '../../domain/phone.js';
import { ROLES } from '../../domain/roles.js';
import { MAX_FIELD_ISSUES, ruled } from '../errors.js';
import { Count, E164, errorResponses, Nullable, Text, Timestamp, Uuid, Version } from '../openapi.js';

/**
 * The /v1 resources. Each schema drives request validation, response serialisation,
 * the TypeScript types of the handlers and the OpenAPI document.
 */
const Id = Type.String({ ...Uuid, description: 'A UUID' });
const Source = Text(100, 'Where the consent came from: api, import, a form name...');

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
  { status: ConsentStatus, at: Timestamp, source: Source },
  { additionalProperties: false },
);
const ConsentWrite = Type.Partial(
  Type.Record(
    Channel,
    Type.Union([
      ConsentStatus,
      Type.Object({ status: ConsentStatus, source: Type.Optional(Source) }, { additionalProperties: false }),
    ]),
  ),
  {
    description: 'Consent per channel: "subscribed" or "unsubscribed", optionally with its source',
    additionalProperties: false,
  },
);

const Label = Nullable(
  Text(DETAIL_LIMITS.label, "mobile, home, work, main, fax, pager, other, or the address book's own words"),
);
const Primary = Type.Boolean({
  description: 'The primary entry: at most one; the first one when none is marked',
});
const PhoneWrite = Type.Object(
  {
    number: Text(
      MAX_UNREAD_LENGTH,
      'Any format, read like phone; a number an import kept unread may be sent back as it is shown (raw)',
    ),
    label: Type.Optional(Label),
    primary: Type.Optional(Primary),
  },
  { additionalProperties: false },
);
const EmailWrite = Type.Object(
  { address: Text(254), label: Type.Optional(Label), primary: Type.Optional(Primary) },
  { additionalProperties: false },
);
const AddressPart = (max: number = DETAIL_LIMITS.addressPart) => Type.Optional(Nullable(Text(max)));
const Address = Type.Object(
  {
    label: Type.Optional(Label),
    po_box: AddressPart(),
    extended: AddressPart(),
    street: AddressPart(DETAIL_LIMITS.street),
    locality: AddressPart(),
    region: AddressPart(),
    postal_code: AddressPart(),
    country: AddressPart(),
  },
  { additionalProperties: false, description: "A postal address in vCard's parts; at least one part" },
);
const ContactDate = Type.Object(
  {
    label: Text(DETAIL_LIMITS.label, "birthday, anniversary, or the address book's own words"),
    date: Type.String({
      pattern: ruled(DATE_PATTERN, DATE_RULE),
      maxLength: 10,
      description: 'YYYY-MM-DD, or --MM-DD when the year is not known',
    }),
  },
  { additionalProperties: false },
);
const ContactUrl = Type.Object(
  { url: Text(DETAIL_LIMITS.url, 'A link, as written (no spaces)'), label: Type.Optional(Label) },
  { additionalProperties: false },
);
const List = <T extends TSchema>(item: T, max: number, description: string) =>
  Type.Array(item, { maxItems: max, description });
const textDetails = {
  title: Nullable(Text(DETAIL_LIMITS.text, 'Job title')),
  department: Nullable(Text(DETAIL_LIMITS.text)),
  nickname: Nullable(Text(DETAIL_LIMITS.text)),
  notes: Nullable(Text(DETAIL_LIMITS.notes)),
};
const listDetails = {
  addresses: List(Address, DETAIL_LIMITS.addresses, 'Postal addresses'),
  dates: List(ContactDate, DETAIL_LIMITS.dates, 'Birthday, anniversary and other dates'),
  urls: List(ContactUrl, DETAIL_LIMITS.urls, 'Links: a web site, a profile'),
};

const contactFields = {
  name: Nullable(Text(CONTACT_LIMITS.name, 'Display name; derived from the name parts when not given')),
  first_name: Nullable(Text(CONTACT_LIMITS.name)),
  middle_name: Nullable(Text(CONTACT_LIMITS.name)),
  last_name: Nullable(Text(CONTACT_LIMITS.name)),
  company: Nullable(Text(CONTACT_LIMITS.company)),
  phone: Nullable(
    Text(
      MAX_UNREAD_LENGTH,
      "Any format (up to 40 characters for a new number); local numbers are read in the organisation's default country and stored as E.164. A number an import kept unread may be sent back as it is shown",
    ),
  ),
  email: Nullable(Text(254)),
  channel: Nullable(Channel),
  avatar_url: Nullable(Text(CONTACT_LIMITS.url)),
  language: Nullable(Text(CONTACT_LIMITS.language)),
  ...textDetails,
  addresses: Nullable(listDetails.addresses),
  dates: Nullable(listDetails.dates),
  urls: Nullable(listDetails.urls),
  phones: Nullable(
    List(
      PhoneWrite,
      DETAIL_LIMITS.phones,
      "Every number, replacing those stored; phone, when given too, names the primary one. Each number is one live contact's unless the organisation allows duplicates",
    ),
  ),
  emails: Nullable(
    List(
      EmailWrite,
      DETAIL_LIMITS.emails,
      'Every address, replacing those stored; email, when given too, names the primary one',
    ),
  ),
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
    name: Text(CONTACT_LIMITS.name),
    first_name: Nullable(Text(CONTACT_LIMITS.name)),
    middle_name: Nullable(Text(CONTACT_LIMITS.name)),
    last_name: Nullable(Text(CONTACT_LIMITS.name)),
    company: Nullable(Text(CONTACT_LIMITS.company)),
    phone: Nullable(E164),
    phone_raw: Nullable(
      Text(
        MAX_UNREAD_LENGTH,
        'The phone as it was given; with phone null, a number an import kept as written without being able to read it',
      ),
    ),
    phone_valid: Nullable(
      Type.Boolean({
        description:
          'True when the number is in a valid, assigned range; false when only possible, or (phone null) not read',
      }),
    ),
    email: Nullable(Type.String({ format: 'email', maxLength: 254 })),
    channel: Nullable(Channel),
    avatar_url: Nullable(
      Type.String({
        pattern: ruled('^https?://\\S+$', 'must be an http or https URL, without spaces'),
        maxLength: CONTACT_LIMITS.url,
      }),
    ),
    language: Nullable(Text(CONTACT_LIMITS.language)),
    ...textDetails,
    ...listDetails,
    phones: List(
      Type.Object({
        number: Nullable(E164),
        raw: Text(MAX_UNREAD_LENGTH, 'The number as it was given'),
        valid: Type.Boolean({ description: 'As phone_valid' }),
        label: Label,
        primary: Type.Boolean(),
      }),
      DETAIL_LIMITS.phones,
      'Every number, the primary one (phone) first; number null for one an import kept as written, unread',
    ),
    emails: List(
      Type.Object({
        address: Type.String({ format: 'email', maxLength: 254 }),
        label: Label,
        primary: Type.Boolean(),
      }),
      DETAIL_LIMITS.emails,
      'Every address, the primary one (email) first',
    ),
    custom: Custom,
    external_ids: ExternalIds,
    consent: Type.Partial(Type.Record(Channel, ConsentEntry)),
    user_id: Nullable(Id),
    created_by: Nullable(Id),
    created_at: Timestamp,
    updated_at: Timestamp,
    deleted_at: Nullable(Timestamp),
    version: Version,
  },
  { $id: 'Contact' },
);

const GroupName = Type.String({ minLength: 1, maxLength: 100 });
const Language = Type.String({ maxLength: 35, description: 'A language code such as en or fr-CA' });
export const Group = Type.Object(
  {
    id: Id,
    name: GroupName,
    description: Nullable(Text(2000)),
    translations: Type.Record(
      Language,
      Type.Object({ name: GroupName, description: Type.Optional(Nullable(Text(2000))) }),
      { maxProperties: 50 },
    ),
    is_active: Type.Boolean(),
    is_default: Type.Boolean(),
    thumbnail_url: Nullable(Text(CONTACT_LIMITS.url)),
    external_ids: ExternalIds,
    member_count: Count,
    created_by: Nullable(Id),
    created_at: Timestamp,
    updated_at: Timestamp,
    version: Version,
  },
  { $id: 'Group' },
);

const groupFields = {
  name: GroupName,
  description: Nullable(Text(2000)),
  translations: Type.Record(
    Language,
    Type.Object(
      {
        name: GroupName,
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

const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const Username = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: ruled('^[^:\\s]+$', 'must not contain a colon or spaces'),
});
const DisplayName = Type.String({ minLength: 1, maxLength: 200 });
const Email = Type.String({ maxLength: 254, format: 'email' });
export const User = Type.Object(
  {
    id: Id,
    username: Username,
    display_name: DisplayName,
    email: Nullable(Email),
    role: Role,
    is_active: Type.Boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
    version: Version,
  },
  { $id: 'User' },
);
const Password = Type.String({ minLength: 8, maxLength: 200, format: 'password' });
export const UserCreate = Type.Object(
  {
    username: Username,
    password: Password,
    display_name: Type.Optional(DisplayName),
    email: Type.Optional(Nullable(Email)),
    role: Role,
  },
  { additionalProperties: false },
);
export const UserPatch = Type.Object(
  {
    display_name: Type.Optional(DisplayName),
    email: Type.Optional(Nullable(Email)),
    role: Type.Optional(Role),
    is_active: Type.Optional(Type.Boolean()),
    password: Type.Optional(Password),
  },
  { additionalProperties: false },
);

export const ApiKey = Type.Object(
  {
    id: Id,
    user_id: Id,
    name: Text(100),
    prefix: Text(20, 'The first characters of the key, to tell keys apart'),
    last_used_at: Nullable(Timestamp),
    revoked_at: Nullable(Timestamp),
    created_at: Timestamp,
    key: Type.Optional(Text(200, 'The key itself: shown once, at creation')),
  },
  { $id: 'ApiKey' },
);

export const Country = Type.String({
  pattern: ruled('^[A-Za-z]{2}$', 'must be a two-letter country code (ISO 3166-1), e.g. AU'),
  maxLength: 2,
});
export const Organisation = Type.Object(
  {
    id: Id,
    name: Text(200),
    default_country: Type.String({
      ...Country,
      description: 'ISO 3166-1 alpha-2; reads local-format phone numbers',
    }),
    default_language: Text(35),
    allow_duplicate_phones: Type.Boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
    version: Version,
  },
  { $id: 'Organisation' },
);
export const OrganisationPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    default_country: Type.Optional(Country),
    default_language: Type.Optional(Type.String({ minLength: 2, maxLength: 35 })),
    allow_duplicate_phones: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const ProblemCode = Type.String({ pattern: '^[a-z_]+$', maxLength: 50 });
const Problem = Type.Object(
  {
    type: Type.String({ format: 'uri', maxLength: 100 }),
    title: Text(100),
    status: Type.Integer({ format: 'int32', minimum: 400, maximum: 599 }),
    detail: Text(10_000),
    code: ProblemCode,
    request_id: Text(100),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Text(500), message: Text(1000) }), { maxItems: MAX_FIELD_ISSUES }),
    ),
    existing_contact_id: Type.Optional(Id),
    merged_into: Type.Optional(
      Type.String({ ...Uuid, description: 'The contact a merged contact was merged into' }),
    ),
    current_version: Type.Optional(Version),
    retryable: Type.Optional(Type.Literal(true, { description: 'The same request may succeed later' })),
    retry_after: Type.Optional(
      Type.Integer({ format: 'int32', minimum: 0, maximum: 86_400, description: 'Seconds to wait first' }),
    ),
  },
  { $id: 'Problem' },
);

/** Adds the errors the /v1 problem handler can give to a route's schema (see errorResponses). */
export const withErrors = errorResponses(Problem, { contentType: 'application/problem+json' });

/** Statuses beyond the common ones: a POST may replay an Idempotency-Key, a write may meet If-Match. */
export const CREATES = [409, 422];
export const WRITES = [409, 412, 428];

/** The errors that name no record: the token routes take no credential, so no role or record. */
/** A username and password, as the token route and the console's sign-in take them. */
export const Credentials = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 100 }),
    password: Type.String({ minLength: 1, maxLength: 200, format: 'password' }),
  },
  { additionalProperties: false },
);

export const withPublicErrors = errorResponses(Problem, {
  contentType: 'application/problem+json',
  omit: [403, 404],
});
/** The console's session routes: as the token routes, but a request without the CSRF header or from another origin is 403. */
export const withSessionErrors = errorResponses(Problem, {
  contentType: 'application/problem+json',
  omit: [404],
});

export const Cursor = Type.String({ maxLength: 500, description: 'The next_cursor of the previous page' });
export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item, { maxItems: 1000 }), next_cursor: Nullable(Cursor) });
export const IdParam = Type.Object({ id: Id });
/** A page's size: optional, 50 when not given (validation fills the default in). */
export const Limit = Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 1000, default: 50 }));
/** The page size validation filled in: Limit's default makes it always there. */
export const limitOf = (query: { limit?: number }) => query.limit!;
