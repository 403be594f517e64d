import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ContactInput } from '../../../domain/contact.js';
import { toObjectId } from '../../../domain/ids.js';
import { phoneDigits } from '../../../domain/phone.js';
import type { Contact, Group } from '../../../domain/records.js';
import type { Actor } from '../../../services/context.js';
import type { Services } from '../../../services/index.js';
import { wholeGroupList, wholeListOf, type SeedLimits } from '../whole-list.js';
import { authenticateMessaging } from './auth.js';
import { readAnyBodyAsJson } from './body.js';
import { errors } from './errors.js';
import { groupKeyOf, keyOf, transactionOf, withTransaction } from './mapping.js';
import {
  ContactCreate,
  ContactsQuery,
  ContactShape,
  ContactUpdate,
  DeleteResult,
  envelope,
  GroupShape,
  GroupWrite,
  IdParams,
  SessionBody,
  withErrors,
} from './schemas.js';

const tags = ['Seed 001: messaging contacts'];
const DELETED = { n: 1, ok: 1, deletedCount: 1 };

/** Seed 001: a WhatsApp platform's contacts and contact groups, Mongo-style ids over Roster's integer keys. */
export const routes =
  (services: Services, limits: SeedLimits): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { accounts, contacts, groups } = services;
    app.setErrorHandler(errors);
    readAnyBodyAsJson(app);
    // After the body is read (it may carry the token), before it is validated (401 comes before 400).
    app.addHook('preValidation', async (request, reply) => {
      await authenticateMessaging(services, request, reply);
    });

    /** Mongo's __v counts changes from 0; Roster's version from 1. */
    async function contactShapes(actor: Actor, list: Contact[]) {
      const [users, memberships] = await Promise.all([
        accounts.usersByIds(
          actor,
          list.map((c) => c.created_by),
        ),
        groups.groupsOfContacts(
          actor,
          list.map((c) => c.key),
        ),
      ]);
      return list.map((c) => {
        const group = memberships.get(c.key)?.[0];
        const creator = c.created_by ? users.get(c.created_by) : undefined;
        return {
          _id: toObjectId('contact', c.key),
          name: c.name,
          number: c.phone ? phoneDigits(c.phone) : '',
          client_id: creator ? toObjectId('user', creator.key) : '',
          group_id: group ? toObjectId('group', group.key) : null,
          channel: c.channel ?? 'whatsapp',
          transaction: transactionOf(c),
          createdAt: c.created_at,
          updatedAt: c.updated_at,
          __v: c.version - 1,
        };
      });
    }

    async function groupShapes(actor: Actor, list: Group[]) {
      const users = await accounts.usersByIds(
        actor,
        list.map((g) => g.created_by),
      );
      return list.map((g) => {
        const creator = g.created_by ? users.get(g.created_by) : undefined;
        return {
          is_default: g.is_default,
          _id: toObjectId('group', g.key),
          title: g.name,
          client_id: creator ? toObjectId('user', creator.key) : '',
          createdAt: g.created_at,
          updatedAt: g.updated_at,
          __v: g.version - 1,
        };
      });
    }

    const one = async <T>(items: Promise<T[]>) => (await items)[0]!;
    const ok = <T>(message: string, data: T) => ({ status: true as const, message, data });

    app.post(
      '/contact',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Create a contact',
            body: ContactCreate,
            response: { 200: envelope(ContactShape) },
          },
          [409],
        ),
      },
      async (request) => {
        const { name, number, group_id, channel, transaction } = request.body;
        const input: ContactInput = {
          name,
          phone: String(number),
          channel: channel ?? 'whatsapp',
          ...(transaction && { extensions: withTransaction(transaction) }),
        };
        const placement = group_id ? { groupKeys: [groupKeyOf(group_id)] } : undefined;
        const contact = await contacts.create(request.actor, input, { placement });
        return ok('Contact created successfully!', await one(contactShapes(request.actor, [contact])));
      },
    );

    app.get(
      '/contact',
      {
        schema: withErrors({
          tags,
          summary: "The caller's contacts, or with type=all the organisation's, newest first",
          querystring: ContactsQuery,
          response: { 200: envelope(Type.Array(ContactShape, { maxItems: 1000 })) },
        }),
      },
      async (request, reply) => {
        const { type, limit, cursor } = request.query;
        const page = await contacts.list(request.actor, {
          limit: limit ?? 1000,
          cursor,
          sort: 'created_at',
          order: 'desc',
          created_by: type === 'all' ? undefined : request.actor.userId,
        });
        if (page.next_cursor) reply.header('x-next-cursor', page.next_cursor);
        return ok('Contact fetched successfully!', await contactShapes(request.actor, page.items));
      },
    );

    app.get(
      '/contact/:id',
      {
        schema: withErrors({
          tags,
          summary: 'Get a contact',
          params: IdParams,
          response: { 200: envelope(ContactShape) },
        }),
      },
      async (request) => {
        const contact = await contacts.get(request.actor, { key: keyOf('contact', request.params.id) });
        return ok('Contact fetched successfully!', await one(contactShapes(request.actor, [contact])));
      },
    );

    app.put(
      '/contact/:id',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Update a contact; group_id moves it to that group',
            params: IdParams,
            body: ContactUpdate,
            response: { 200: envelope(ContactShape) },
          },
          [409],
        ),
      },
      async (request) => {
        const { name, number, group_id, channel, transaction } = request.body;
        const key = keyOf('contact', request.params.id);
        // A group_id moves the contact there; null takes it out of every group; absent leaves it be.
        const placement =
          group_id === undefined
            ? undefined
            : { groupKeys: group_id === null ? [] : [groupKeyOf(group_id)], exclusive: true };
        const contact = await contacts.patch(
          request.actor,
          { key },
          {
            ...(name !== undefined && { name }),
            ...(number !== undefined && { phone: String(number) }),
            ...(channel !== undefined && { channel }),
            ...(transaction !== undefined && { extensions: withTransaction(transaction) }),
          },
          { placement },
        );
        return ok('Contact updated successfully!', await one(contactShapes(request.actor, [contact])));
      },
    );

    app.delete(
      '/contact/:id',
      {
        schema: withErrors({
          tags,
          summary: 'Delete a contact',
          params: IdParams,
          body: SessionBody,
          response: { 200: envelope(DeleteResult) },
        }),
      },
      async (request) => {
        await contacts.delete(request.actor, { key: keyOf('contact', request.params.id) });
        return ok('Contact deleted successfully!', DELETED);
      },
    );

    app.post(
      '/contact_groups',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Create a contact group',
            body: GroupWrite,
            response: { 200: envelope(GroupShape) },
          },
          [409],
        ),
      },
      async (request) => {
        const group = await groups.create(request.actor, { name: request.body.title });
        return ok('ContactGroup group created successfully!', await one(groupShapes(request.actor, [group])));
      },
    );

    app.get(
      '/contact_groups',
      {
        schema: withErrors({
          tags,
          summary: "The caller's contact groups",
          response: {
            200: envelope(wholeListOf(GroupShape, limits, "All the caller's groups")),
          },
        }),
      },
      async (request, reply) => {
        const mine = await wholeGroupList(
          services,
          request.actor,
          { created_by: request.actor.userId },
          limits,
          reply,
        );
        return ok('ContactGroup group fetched successfully!', await groupShapes(request.actor, mine));
      },
    );

    app.get(
      '/contact_groups/:id',
      {
        schema: withErrors({
          tags,
          summary: 'Get a contact group',
          params: IdParams,
          response: { 200: envelope(GroupShape) },
        }),
      },
      async (request) => {
        const group = await groups.get(request.actor, { key: keyOf('group', request.params.id) });
        return ok('ContactGroup group fetched successfully!', await one(groupShapes(request.actor, [group])));
      },
    );

    app.put(
      '/contact_groups/:id',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Rename a contact group',
            params: IdParams,
            body: GroupWrite,
            response: { 200: envelope(GroupShape) },
          },
          [409],
        ),
      },
      async (request) => {
        const group = await groups.update(
          request.actor,
          { key: keyOf('group', request.params.id) },
          { name: request.body.title },
        );
        return ok('ContactGroup group updated successfully!', await one(groupShapes(request.actor, [group])));
      },
    );

    app.delete(
      '/contact_groups/:id',
      {
        schema: withErrors({
          tags,
          summary: 'Delete a contact group (its contacts stay)',
          params: IdParams,
          body: SessionBody,
          response: { 200: envelope(DeleteResult) },
        }),
      },
      async (request) => {
        await groups.delete(request.actor, { key: keyOf('group', request.params.id) });
        return ok('ContactGroup group deleted successfully!', DELETED);
      },
    );
  };
