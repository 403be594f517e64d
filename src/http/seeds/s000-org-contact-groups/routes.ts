import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { HTTPMethods } from 'fastify';
import { notFound } from '../../../domain/errors.js';
import type { Group, Organisation } from '../../../domain/records.js';
import type { Actor } from '../../../services/context.js';
import type { Services } from '../../../services/index.js';
import { authenticate } from '../../auth.js';
import { wholeGroupList, wholeListOf, type SeedLimits } from '../whole-list.js';
import { errors } from './errors.js';
import { withDrfErrors } from '../drf-errors.js';
import { byLanguage, complete, translationsPatched } from './mapping.js';
import { Detail, GroupParams, GroupPatch, GroupPut, ListItem, Params } from './schemas.js';

const BASE = '/api/v1.0/organisation/:unique_id/contact-groups';
const tags = ['Seed 000: organisation contact groups'];

/** Both spellings of every path: Django clients send the trailing slash, others often drop it. */
const bothSlashes = (path: string) => [`${path}/`, path];

/** Seed 000: an organisation's contact groups, Django REST Framework style, addressed by UUIDs. */
export const routes =
  (services: Services, limits: SeedLimits): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { accounts, groups } = services;
    app.setErrorHandler(errors);
    app.addHook('onRequest', async (request) => {
      await authenticate(services, request, { surface: 'seed-000' });
    });
    // Before the body is validated, as Django looks the object up first: another organisation
    // is "Not found." whatever the body, exactly like one that does not exist.
    app.addHook('preValidation', async (request) => {
      if ((request.params as { unique_id?: string }).unique_id !== request.actor.organisationId)
        throw notFound('Organisation');
      // Django reads a request without a body as an empty form: its fields are then "required".
      if (request.body === undefined && ['POST', 'PUT', 'PATCH'].includes(request.method)) request.body = {};
    });

    async function creatorNames(actor: Actor, list: Group[]) {
      const users = await accounts.usersByIds(
        actor,
        list.map((g) => g.created_by),
      );
      return (g: Group) => (g.created_by ? (users.get(g.created_by)?.display_name ?? '') : '');
    }

    async function detail(actor: Actor, org: Organisation, group: Group) {
      const name = await creatorNames(actor, [group]);
      return {
        unique_id: group.id,
        translations: complete(group.translations),
        organisation_name: org.name,
        created_by_name: name(group),
        is_active: group.is_active,
        contacts_count: group.member_count,
        date_created: group.created_at,
        last_updated: group.updated_at,
      };
    }

    // Django REST Framework answers a method a path does not serve with 405 and the methods it does.
    const allowed: [string, HTTPMethods[]][] = [
      [`${BASE}/create`, ['POST']],
      [BASE, ['GET']],
      [`${BASE}/:group_unique_id`, ['GET', 'PUT', 'PATCH', 'DELETE']],
    ];
    for (const [path, methods] of allowed) {
      const others = (['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const).filter((m) => !methods.includes(m));
      for (const url of bothSlashes(path)) {
        app.route({
          method: others,
          url,
          schema: { hide: true },
          handler: async (request, reply) =>
            reply
              .code(405)
              .header('allow', methods.join(', '))
              .send({ detail: `Method "${request.method}" not allowed.` }),
        });
      }
    }

    for (const url of bothSlashes(`${BASE}/create`)) {
      app.post(
        url,
        {
          schema: withDrfErrors({
            tags,
            summary: 'Create a contact group',
            params: Params,
            body: GroupPut,
            response: { 201: Detail },
          }),
        },
        async (request, reply) => {
          const org = await accounts.getOrganisation(request.actor);
          const group = await groups.create(request.actor, {
            translations: complete(byLanguage(request.body.translations, org)),
            is_active: request.body.is_active,
          });
          return reply.code(201).send(await detail(request.actor, org, group));
        },
      );
    }

    for (const url of bothSlashes(BASE)) {
      app.get(
        url,
        {
          schema: withDrfErrors({
            tags,
            summary: "List the organisation's contact groups",
            params: Params,
            response: {
              200: wholeListOf(ListItem, limits, 'Every group of the organisation'),
            },
          }),
        },
        async (request, reply) => {
          const all = await wholeGroupList(services, request.actor, {}, limits, reply);
          const name = await creatorNames(request.actor, all);
          return all.map((g) => ({
            unique_id: g.id,
            translations: complete(g.translations),
            is_active: g.is_active,
            created_by_name: name(g),
            date_created: g.created_at,
            last_updated: g.updated_at,
          }));
        },
      );
    }

    for (const url of bothSlashes(`${BASE}/:group_unique_id`)) {
      const route = { tags, params: GroupParams };
      app.get(
        url,
        { schema: withDrfErrors({ ...route, summary: 'Get a contact group', response: { 200: Detail } }) },
        async (request) => {
          const org = await accounts.getOrganisation(request.actor);
          return detail(
            request.actor,
            org,
            await groups.get(request.actor, { id: request.params.group_unique_id }),
          );
        },
      );
      app.put(
        url,
        {
          schema: withDrfErrors({
            ...route,
            summary: 'Replace a contact group',
            body: GroupPut,
            response: { 200: Detail },
          }),
        },
        async (request) => {
          const org = await accounts.getOrganisation(request.actor);
          const group = await groups.update(
            request.actor,
            { id: request.params.group_unique_id },
            {
              translations: complete(byLanguage(request.body.translations, org)),
              // As Django REST Framework does: a field with a default, left out of a PUT, keeps its value.
              ...(request.body.is_active !== undefined && { is_active: request.body.is_active }),
            },
          );
          return detail(request.actor, org, group);
        },
      );
      app.patch(
        url,
        {
          schema: withDrfErrors(
            {
              ...route,
              summary: 'Update a contact group',
              body: GroupPatch,
              response: { 200: Detail },
            },
            [412],
          ),
        },
        async (request) => {
          const org = await accounts.getOrganisation(request.actor);
          const { translations, is_active } = request.body;
          const current = await groups.get(request.actor, { id: request.params.group_unique_id });
          const group = await groups.update(
            request.actor,
            { id: current.id },
            {
              ...(translations !== undefined && {
                translations: translationsPatched(current.translations, translations, org),
              }),
              ...(is_active !== undefined && { is_active }),
            },
            // The merge was made from this version: a change meanwhile is refused, not overwritten.
            { expectedVersion: current.version },
          );
          return detail(request.actor, org, group);
        },
      );
      app.delete(
        url,
        {
          schema: withDrfErrors({
            ...route,
            summary: 'Delete a contact group; returns it as it was',
            response: { 200: Detail },
          }),
        },
        async (request) => {
          const org = await accounts.getOrganisation(request.actor);
          return detail(
            request.actor,
            org,
            await groups.delete(request.actor, { id: request.params.group_unique_id }),
          );
        },
      );
    }
  };
