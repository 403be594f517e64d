import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CHANNELS } from '../../domain/contact.js';
import { DUPLICATE_KINDS } from '../../domain/duplicates.js';
import { MERGE_FIELDS, MERGE_MAX_IDS } from '../../domain/merge.js';
import type { Services } from '../../services/index.js';
import { expectedVersion } from '../etag.js';
import { Count, Nullable, Text, Timestamp, Uuid } from '../openapi.js';
import { Contact, CREATES, Cursor, IdParam, Limit, limitOf, Page, withErrors, WRITES } from './schemas.js';

const literals = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Id = Type.String({ ...Uuid, description: 'A UUID' });

const CandidateSet = Type.Object(
  {
    contact_ids: Type.Array(Id, { minItems: 2, maxItems: 100, description: 'Oldest first; at most 100' }),
    size: Type.Integer({ ...Count, minimum: 2, description: 'How many live contacts share the key' }),
    score: Type.Number({ minimum: 0, maximum: 1, description: 'How likely they are one person, 0 to 1' }),
    reasons: Type.Array(
      Type.Object({
        kind: literals(DUPLICATE_KINDS),
        value: Text(1000, 'The shared key as normalised: an address, a number, "name|company"...'),
      }),
      { maxItems: 100, description: 'The keys every contact of the set holds' },
    ),
  },
  { $id: 'DuplicateCandidates' },
);

const DuplicateQuery = Type.Object(
  {
    limit: Limit,
    cursor: Type.Optional(Cursor),
    min_score: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Leave out weaker sets' })),
  },
  { additionalProperties: false },
);

const MergeRequest = Type.Object(
  {
    ids: Type.Array(Id, {
      minItems: 1,
      maxItems: MERGE_MAX_IDS,
      description: 'The contacts merged into this one; their values count in this order',
    }),
    fields: Type.Optional(
      Type.Partial(Type.Record(literals(MERGE_FIELDS), Id), {
        additionalProperties: false,
        description:
          "Per field, the contact whose value wins (default: this contact's non-empty value, then the others' in order)",
      }),
    ),
  },
  { additionalProperties: false, $id: 'MergeRequest' },
);

/** What a merge does (and a dry run would do). */
const outcome = {
  contact_id: Type.String({ ...Uuid, description: 'The contact the others were merged into' }),
  merged_ids: Type.Array(Id, { maxItems: MERGE_MAX_IDS }),
  fields: Type.Partial(Type.Record(literals(MERGE_FIELDS), Id), {
    description: "Which contact each field's value came from",
  }),
  consent_from: Type.Partial(Type.Record(literals(CHANNELS), Id), {
    description: "Which contact each channel's consent came from",
  }),
  groups_added: Type.Array(Id, {
    maxItems: 10_000,
    description: 'Groups the contact joined through the merge',
  }),
};

const MergePreview = Type.Object(
  { ...outcome, contact: Contact },
  { $id: 'MergePreview', description: 'What the merge would do; nothing was written' },
);

const MergeQuery = Type.Object(
  {
    dry_run: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'Answer what the merge would do (200, the merged contact as it would be) and write nothing',
      }),
    ),
  },
  { additionalProperties: false },
);

const Merge = Type.Object(
  {
    id: Id,
    ...outcome,
    created_by: Nullable(Id),
    created_at: Timestamp,
    undone_at: Nullable(Timestamp),
    not_undone: Nullable(
      Type.Array(Type.Object({ contact_id: Id, reason: Text(500) }), {
        maxItems: MERGE_MAX_IDS + 1,
        description: 'After an undo: what had changed since the merge and was left as it is',
      }),
    ),
    contact: Type.Optional(Contact),
  },
  { $id: 'Merge' },
);

const tags = ['Duplicates and merges'];

export const mergeRoutes =
  (services: Services, requireIfMatch: boolean): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      '/duplicates',
      {
        schema: withErrors({
          tags,
          summary: 'List candidate sets of duplicate contacts',
          querystring: DuplicateQuery,
          response: { 200: Page(CandidateSet) },
        }),
      },
      async (request) =>
        services.duplicates.list(request.actor, { ...request.query, limit: limitOf(request.query) }),
    );

    app.post(
      '/contacts/:id/merge',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Merge contacts into this one (If-Match applies to this one)',
            params: IdParam,
            querystring: MergeQuery,
            body: MergeRequest,
            response: { 200: MergePreview, 201: Merge },
          },
          [...WRITES, 422],
        ),
      },
      async (request, reply) => {
        const dryRun = request.query.dry_run === true;
        const { merge, contact } = await services.merges.merge(
          request.actor,
          request.params.id,
          request.body,
          {
            expectedVersion: expectedVersion(request, requireIfMatch),
            dryRun,
          },
        );
        if (dryRun) return reply.code(200).send({ ...merge, contact });
        return reply
          .code(201)
          .header('location', `/v1/merges/${merge.id}`)
          .send({ ...merge, contact });
      },
    );

    app.get(
      '/merges/:id',
      { schema: withErrors({ tags, summary: 'Get a merge', params: IdParam, response: { 200: Merge } }) },
      async (request) => services.merges.get(request.actor, request.params.id),
    );

    app.post(
      '/merges/:id/undo',
      {
        schema: withErrors(
          { tags, summary: 'Undo a merge', params: IdParam, response: { 200: Merge } },
          CREATES,
        ),
      },
      async (request) => services.merges.undo(request.actor, request.params.id),
    );
  };
