import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { GROUP_NAME_MAX } from '../../../domain/group.js';
import { Count, Nullable, Text, Timestamp, Uuid } from '../../openapi.js';

/** Shapes of the organisation contact-groups API (seed 000), as its document shows them. */
const Translation = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: GROUP_NAME_MAX }),
    description: Type.Optional(Nullable(Text(2000))),
  },
  { additionalProperties: false },
);

const Language = Type.String({ pattern: '^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$', maxLength: 35 });

/** A name in the default language, or {language: translation}. */
const translations = <T extends TSchema>(translation: T) =>
  Type.Union([
    Type.String({
      minLength: 1,
      maxLength: GROUP_NAME_MAX,
      description: "The name in the organisation's default language",
    }),
    Type.Record(Language, translation, {
      minProperties: 1,
      maxProperties: 50,
      additionalProperties: false,
    }),
  ]);

// Clients copy the document's examples, which carry the read-only fields too: those are accepted and ignored, as Django REST Framework does.
export const GroupPut = Type.Object({
  translations: translations(Translation),
  is_active: Type.Optional(Type.Boolean()),
});
export type GroupPut = Static<typeof GroupPut>;
/** A PATCH may change one field of one language; a language new to the group still needs its name. */
export const GroupPatch = Type.Object({
  translations: Type.Optional(translations(Type.Partial(Translation))),
  is_active: Type.Optional(Type.Boolean()),
});
export type GroupPatch = Static<typeof GroupPatch>;

// The document's ids are UUIDs, but any text names a record here: one that is no UUID is "Not found."
const Id = Text(100);
export const Params = Type.Object({ unique_id: Id });
export const GroupParams = Type.Object({ unique_id: Id, group_unique_id: Id });

const TranslationsOut = Type.Record(
  Type.String(),
  Type.Object({ name: Text(GROUP_NAME_MAX), description: Nullable(Text(2000)) }),
  { maxProperties: 50 },
);
const CreatorName = Text(200, 'The display name of the user who created it; empty when unknown');
export const ListItem = Type.Object({
  unique_id: Uuid,
  translations: TranslationsOut,
  is_active: Type.Boolean(),
  created_by_name: CreatorName,
  date_created: Timestamp,
  last_updated: Timestamp,
});
export const Detail = Type.Object({
  unique_id: Uuid,
  translations: TranslationsOut,
  organisation_name: Text(200),
  created_by_name: CreatorName,
  is_active: Type.Boolean(),
  contacts_count: Count,
  date_created: Timestamp,
  last_updated: Timestamp,
});
