import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CHANGE_TYPES, SURFACES, type ChangeType } from '../../domain/changes.js';
import type { Services } from '../../services/index.js';
import { Count, Nullable, Text, Timestamp, Uuid, Version } from '../openapi.js';
import { Cursor, IdParam, Limit, limitOf, Page, withErrors } from './schemas.js';

const literals = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Id = Type.String({ ...Uuid, description: 'A UUID' });

/** Any JSON value a field held. */
const Value = Type.Unknown({ description: 'The value as the API shows it (null when empty)' });

export const Change = Type.Object(
  {
    seq: Type.Integer({ ...Count, description: "The entry's number: per organisation, in commit order" }),
    type: literals(CHANGE_TYPES),
    resource: Type.Object({
      type: literals(['contact', 'group', 'user', 'api_key', 'organisation', 'import']),
      id: Id,
    }),
    version: Nullable(Version),
    actor: Type.Object({
      user_id: Nullable(Id),
      credential: Type.Object({
        kind: literals(['basic', 'jwt', 'api_key', 'cli', 'import']),
        id: Nullable(
          Text(100, 'The API key id, the session id of a JWT, the import id; null for a password or the CLI'),
        ),
      }),
    }),
    surface: literals(SURFACES),
    occurred_at: Timestamp,
    changes: Type.Optional(
      Type.Record(Type.String({ maxLength: 100 }), Type.Object({ old: Value, new: Value }), {
        description: 'An update: each changed field, before and after (left out once the record is erased)',
      }),
    ),
    contact_ids: Type.Optional(
      Type.Array(Id, { maxItems: 1_000_000, description: 'The contacts added to or removed from the group' }),
    ),
    summary: Type.Optional(
      Type.Record(Type.String({ maxLength: 100 }), Value, { description: "An import's counts" }),
    ),
  },
  { $id: 'Change' },
);

const FeedQuery = Type.Object(
  {
    after: Type.Optional({
      ...Cursor,
      description: 'The next_cursor of the previous page; none: from the oldest kept',
    }),
    limit: Limit,
    types: Type.Optional(
      Type.String({
        maxLength: 1000,
        description: `Comma-separated change types to keep (${CHANGE_TYPES.join(', ')})`,
      }),
    ),
  },
  { additionalProperties: false },
);

const HistoryQuery = Type.Object(
  { limit: Limit, cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);

const Feed = Type.Object({
  items: Type.Array(Change, { maxItems: 1000 }),
  next_cursor: { ...Cursor, description: 'Where the next page starts: poll with it for what comes next' },
});

const tags = ['Changes'];

/** The change feed and the history of contacts and groups (docs/changes.md). */
export const changeRoutes =
  (services: Services): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      '/changes',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Follow every change of the organisation, in commit order',
            querystring: FeedQuery,
            response: { 200: Feed },
          },
          [410],
        ),
      },
      async (request) =>
        services.changes.feed(request.actor, {
          after: request.query.after,
          limit: limitOf(request.query),
          types: request.query.types
            ?.split(',')
            .map((type) => type.trim())
            .filter(Boolean) as ChangeType[] | undefined,
        }),
    );

    for (const kind of ['contact', 'group'] as const)
      app.get(
        `/${kind}s/:id/history`,
        {
          schema: withErrors({
            tags,
            summary: `The changes of one ${kind}, newest first`,
            params: IdParam,
            querystring: HistoryQuery,
            response: { 200: Page(Change) },
          }),
        },
        async (request) =>
          services.changes.history(request.actor, kind, request.params.id, {
            cursor: request.query.cursor,
            limit: limitOf(request.query),
          }),
      );
  };
