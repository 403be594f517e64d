import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../services/index.js';
import { expectedVersion, setEtag } from '../etag.js';
import { consentFilter, ContactListQuery } from './contacts.js';
import { Count, Timestamp, Uuid } from '../openapi.js';
import {
  Contact,
  CREATES,
  Cursor,
  Group,
  GroupCreate,
  IdParam,
  Limit,
  limitOf,
  MemberIds,
  Page,
  withErrors,
  WRITES,
} from './schemas.js';

const tags = ['Groups'];
const GroupListQuery = Type.Object(
  {
    limit: Limit,
    cursor: Type.Optional(Cursor),
    q: Type.Optional(Type.String({ maxLength: 100, description: 'Part of the name' })),
    sort: Type.Optional(
      Type.Union([Type.Literal('name'), Type.Literal('created_at')], { default: 'created_at' }),
    ),
  },
  { additionalProperties: false },
);
const MemberListQuery = Type.Omit(ContactListQuery, ['group_id']);
const MatchingFilter = Type.Pick(
  ContactListQuery,
  ['q', 'phone', 'email', 'consent', 'updated_since', 'group_id'],
  {
    additionalProperties: false,
    description: "The contact list's filters: every live contact that matches is added",
  },
);
const MemberJob = Type.Object({
  id: Uuid,
  group_id: Uuid,
  status: Type.Union([Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')]),
  matched: Type.Integer({ ...Count, description: 'Matching contacts read so far' }),
  added: Type.Integer({ ...Count, description: 'Of those, the ones that were not members yet' }),
  error: Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]),
  created_at: Timestamp,
  finished_at: Type.Union([Timestamp, Type.Null()]),
});
const MemberResult = Type.Object({
  added: Type.Optional(Count),
  already_members: Type.Optional(Count),
  removed: Type.Optional(Count),
  not_members: Type.Optional(Count),
  member_count: Count,
});

export const groupRoutes =
  (services: Services, requireIfMatch: boolean): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { groups } = services;

    app.post(
      '/groups',
      {
        schema: withErrors(
          { tags, summary: 'Create a group', body: GroupCreate, response: { 201: Group } },
          CREATES,
        ),
      },
      async (request, reply) => {
        const group = await groups.create(request.actor, request.body);
        setEtag(reply, group);
        return reply.code(201).header('location', `/v1/groups/${group.id}`).send(group);
      },
    );

    app.get(
      '/groups',
      {
        schema: withErrors({
          tags,
          summary: 'List groups (keyset pagination)',
          querystring: GroupListQuery,
          response: { 200: Page(Group) },
        }),
      },
      async (request) => groups.list(request.actor, { ...request.query, limit: limitOf(request.query) }),
    );

    app.get(
      '/contacts/:id/groups',
      {
        schema: withErrors({
          tags,
          summary: 'The groups a contact is in',
          params: IdParam,
          response: { 200: Type.Object({ items: Type.Array(Group) }) },
        }),
      },
      async (request) => ({ items: await groups.groupsOfContact(request.actor, request.params.id) }),
    );

    app.get(
      '/groups/:id',
      { schema: withErrors({ tags, summary: 'Get a group', params: IdParam, response: { 200: Group } }) },
      async (request, reply) => {
        const group = await groups.get(request.actor, { id: request.params.id });
        setEtag(reply, group);
        return group;
      },
    );

    for (const method of ['put', 'patch'] as const) {
      app[method](
        '/groups/:id',
        {
          schema: withErrors(
            {
              tags,
              summary: method === 'put' ? 'Replace a group' : 'Update a group',
              params: IdParam,
              body: GroupCreate,
              response: { 200: Group },
            },
            WRITES,
          ),
        },
        async (request, reply) => {
          const group = await groups.update(request.actor, { id: request.params.id }, request.body, {
            replace: method === 'put',
            expectedVersion: expectedVersion(request, requireIfMatch),
          });
          setEtag(reply, group);
          return group;
        },
      );
    }

    app.delete(
      '/groups/:id',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Delete a group (its contacts stay)',
            params: IdParam,
            response: { 204: Type.Null() },
          },
          WRITES,
        ),
      },
      async (request, reply) => {
        await groups.delete(
          request.actor,
          { id: request.params.id },
          { expectedVersion: expectedVersion(request, requireIfMatch) },
        );
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/groups/:id/members',
      {
        schema: withErrors({
          tags,
          summary: "List a group's members",
          params: IdParam,
          querystring: MemberListQuery,
          response: { 200: Page(Contact) },
        }),
      },
      async (request) => {
        const { consent, ...query } = request.query;
        return groups.listMembers(request.actor, request.params.id, {
          ...query,
          limit: limitOf(query),
          consent: consentFilter(consent),
        });
      },
    );

    app.post(
      '/groups/:id/members/matching',
      {
        schema: withErrors({
          tags,
          summary:
            'Add every contact matching a filter, as a job (202; follow it with GET .../matching/{job_id})',
          params: IdParam,
          body: MatchingFilter,
          response: { 202: MemberJob },
        }),
      },
      async (request, reply) => {
        const { consent, ...filter } = request.body;
        const job = await services.memberJobs.start(request.actor, request.params.id, {
          ...filter,
          consent: consentFilter(consent),
        });
        return reply
          .code(202)
          .header('location', `/v1/groups/${job.group_id}/members/matching/${job.id}`)
          .send(job);
      },
    );
    app.get(
      '/groups/:id/members/matching/:job_id',
      {
        schema: withErrors({
          tags,
          summary: 'The progress of a job adding matching contacts',
          params: Type.Object({ id: Uuid, job_id: Uuid }),
          response: { 200: MemberJob },
        }),
      },
      async (request) => services.memberJobs.get(request.actor, request.params.id, request.params.job_id),
    );

    app.post(
      '/groups/:id/members',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Add contacts to a group (up to 10,000, idempotent)',
            params: IdParam,
            body: MemberIds,
            response: { 200: MemberResult },
          },
          CREATES,
        ),
      },
      async (request) =>
        groups.addMembers(request.actor, { id: request.params.id }, { ids: request.body.contact_ids }),
    );

    app.delete(
      '/groups/:id/members',
      {
        schema: withErrors({
          tags,
          summary: 'Remove contacts from a group (up to 10,000)',
          params: IdParam,
          body: MemberIds,
          response: { 200: MemberResult },
        }),
      },
      async (request) =>
        groups.removeMembers(request.actor, { id: request.params.id }, { ids: request.body.contact_ids }),
    );
  };
