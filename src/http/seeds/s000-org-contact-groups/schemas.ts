import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { GROUP_NAME_MAX } from '../../../services/groups.js';

/** Shapes of the organisation contact-groups API (seed 000), as its document shows them. */
const Translation = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: GROUP_NAME_MAX }),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  },
  { additionalProperties: false },
);

/** A name in the default language, or {language: translation}. */
const translations = <T extends TSchema>(translation: T) =>
  Type.Union([
    Type.String({
      minLength: 1,
      maxLength: GROUP_NAME_MAX,
      description: "The name in the organisation's default language",
    }),
    Type.Record(
      Type.String({ pattern: '^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$', maxLength: 35 }),
      translation,
      {
        minProperties: 1,
        maxProperties: 50,
        additionalProperties: false,
      },
    ),
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

export const Params = Type.Object({ unique_id: Type.String({ maxLength: 100 }) });
export const GroupParams = Type.Object({
  unique_id: Type.String({ maxLength: 100 }),
  group_unique_id: Type.String({ maxLength: 100 }),
});

const TranslationsOut = Type.Record(
  Type.String(),
  Type.Object({ name: Type.String(), description: Type.Union([Type.String(), Type.Null()]) }),
);
const Timestamp = Type.String({ format: 'date-time' });
export const ListItem = Type.Object({
  unique_id: Type.String(),
  translations: TranslationsOut,
  is_active: Type.Boolean(),
  created_by_name: Type.String(),
  date_created: Timestamp,
  last_updated: Timestamp,
});
export const Detail = Type.Object({
  unique_id: Type.String(),
  translations: TranslationsOut,
  organisation_name: Type.String(),
  created_by_name: Type.String(),
  is_active: Type.Boolean(),
  contacts_count: Type.Integer(),
  date_created: Timestamp,
  last_updated: Timestamp,
});
export const DrfError = Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())]));
