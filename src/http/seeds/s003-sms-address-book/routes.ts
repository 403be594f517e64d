import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../../services/index.js';
import { authenticate } from '../../auth.js';
import { errors } from './errors.js';
import { contactIn, contactOut, groupOut } from './mapping.js';
import {
  ById,
  ContactDetail,
  ContactEdit,
  ContactNew,
  GroupDetail,
  GroupEdit,
  GroupList,
  GroupNew,
  GroupPage,
  IdResult,
  withErrors,
} from './schemas.js';

const tags = ['Seed 003: SMS address book'];

const key = (id: number | string) => Number(id);

/** Seed 003: an SMS gateway's POST-only contact API over address books (Roster's groups), by integer ids. */
export const routes =
  (services: Services): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { contacts, groups } = services;
    app.setErrorHandler(errors);
    app.addHook('onRequest', async (request) => {
      await authenticate(services, request, { surface: 'seed-003' });
    });
    // Clients call the list with no body at all, and PHP's json_encode([]) sends `[]`: both mean {}.
    app.addHook('preValidation', async (request) => {
      if (request.body === undefined || (Array.isArray(request.body) && request.body.length === 0))
        request.body = {};
    });

    app.post(
      '/api/contact/new',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Add a contact to an address book',
            body: ContactNew,
            response: { 200: IdResult },
          },
          [409],
        ),
      },
      async (request) => {
        const contact = await contacts.create(request.actor, contactIn(request.body), {
          placement: { groupKeys: [key(request.body.group_id)] },
        });
        return { status: 'success' as const, result: { id: contact.key } };
      },
    );

    app.post(
      '/api/contact/detail',
      {
        schema: withErrors(
          { tags, summary: 'Get a contact', body: ById, response: { 200: ContactDetail } },
          [409],
        ),
      },
      async (request) => ({
        status: 'success' as const,
        result: { contact: contactOut(await contacts.get(request.actor, { key: key(request.body.id) })) },
      }),
    );

    app.post(
      '/api/contact/edit',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Edit a contact; group_id moves it to that address book',
            body: ContactEdit,
            response: { 200: IdResult },
          },
          [409],
        ),
      },
      async (request) => {
        const { id, group_id } = request.body;
        const placement =
          group_id === undefined ? undefined : { groupKeys: [key(group_id)], exclusive: true };
        const contact = await contacts.patch(request.actor, { key: key(id) }, contactIn(request.body), {
          placement,
        });
        return { status: 'success' as const, result: { id: contact.key } };
      },
    );

    app.post(
      '/api/contact/delete',
      {
        schema: withErrors(
          { tags, summary: 'Delete a contact', body: ById, response: { 200: IdResult } },
          [409],
        ),
      },
      async (request) => {
        const contact = await contacts.delete(request.actor, { key: key(request.body.id) });
        return { status: 'success' as const, result: { id: contact.key } };
      },
    );

    app.post(
      '/api/group/new',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Create an address book (Roster addition)',
            body: GroupNew,
            response: { 200: IdResult },
          },
          [409],
        ),
      },
      async (request) => {
        const group = await groups.create(request.actor, { name: request.body.name });
        return { status: 'success' as const, result: { id: group.key } };
      },
    );

    app.post(
      '/api/group/list',
      {
        schema: withErrors(
          {
            tags,
            summary: 'List address books (Roster addition)',
            body: GroupList,
            response: { 200: GroupPage },
          },
          [409],
        ),
      },
      async (request) => {
        const page = request.body.page ?? 1;
        const limit = request.body.limit ?? 100;
        const { items, total } = await groups.pageByNumber(request.actor, page, limit);
        return { status: 'success' as const, result: { groups: items.map(groupOut), page, limit, total } };
      },
    );

    app.post(
      '/api/group/detail',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Get an address book (Roster addition)',
            body: ById,
            response: { 200: GroupDetail },
          },
          [409],
        ),
      },
      async (request) => ({
        status: 'success' as const,
        result: { group: groupOut(await groups.get(request.actor, { key: key(request.body.id) })) },
      }),
    );

    app.post(
      '/api/group/edit',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Rename an address book (Roster addition)',
            body: GroupEdit,
            response: { 200: IdResult },
          },
          [409],
        ),
      },
      async (request) => {
        const group = await groups.update(
          request.actor,
          { key: key(request.body.id) },
          { name: request.body.name },
        );
        return { status: 'success' as const, result: { id: group.key } };
      },
    );

    app.post(
      '/api/group/delete',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Delete an address book; its contacts stay (Roster addition)',
            body: ById,
            response: { 200: IdResult },
          },
          [409],
        ),
      },
      async (request) => {
        const group = await groups.delete(request.actor, { key: key(request.body.id) });
        return { status: 'success' as const, result: { id: group.key } };
      },
    );
  };
