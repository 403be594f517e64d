import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Channel, ConsentStatus } from '../../domain/contact.js';
import { CHANNELS } from '../../domain/contact.js';
import type { Services } from '../../services/index.js';
import { expectedVersion, setEtag } from '../etag.js';
import { Timestamp, Uuid } from '../openapi.js';
import {
  Contact,
  ContactMergePatch,
  ContactWrite,
  CREATES,
  Cursor,
  IdParam,
  Limit,
  limitOf,
  Page,
  withErrors,
  WRITES,
} from './schemas.js';

export const ContactListQuery = Type.Object(
  {
    limit: Limit,
    cursor: Type.Optional(Cursor),
    group_id: Type.Optional(Uuid),
    phone: Type.Optional(
      Type.String({ maxLength: 40, description: 'Any format; normalised before matching' }),
    ),
    email: Type.Optional(Type.String({ maxLength: 254 })),
    q: Type.Optional(
      Type.String({
        maxLength: 200,
        description: 'Words matched as prefixes against names, company, email and phone digits',
      }),
    ),
    updated_since: Type.Optional(Timestamp),
    consent: Type.Optional(
      Type.String({
        pattern: `^(${CHANNELS.join('|')}):(subscribed|unsubscribed)$`,
        maxLength: 30,
        description: 'channel:status, e.g. sms:subscribed',
      }),
    ),
    deleted: Type.Optional(
      Type.Union([Type.Literal('exclude'), Type.Literal('only'), Type.Literal('include')], {
        default: 'exclude',
      }),
    ),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc' })),
    sort: Type.Optional(
      Type.Union([Type.Literal('name'), Type.Literal('created_at'), Type.Literal('updated_at')], {
        default: 'created_at',
      }),
    ),
  },
  { additionalProperties: false },
);

export function consentFilter(value: string | undefined) {
  if (!value) return undefined;
  const [channel, status] = value.split(':') as [Channel, ConsentStatus];
  return { channel, status };
}

const tags = ['Contacts'];

export const contactRoutes =
  (services: Services, requireIfMatch: boolean): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { contacts } = services;

    app.post(
      '/contacts',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Create a contact',
            body: ContactWrite,
            response: { 201: Contact },
          },
          CREATES,
        ),
      },
      async (request, reply) => {
        const { consent, ...input } = request.body;
        const contact = await contacts.create(request.actor, input, { consent });
        setEtag(reply, contact);
        return reply.code(201).header('location', `/v1/contacts/${contact.id}`).send(contact);
      },
    );

    app.get(
      '/contacts',
      {
        schema: withErrors({
          tags,
          summary: 'List contacts (keyset pagination)',
          querystring: ContactListQuery,
          response: { 200: Page(Contact) },
        }),
      },
      async (request) => {
        const { consent, ...query } = request.query;
        return contacts.list(request.actor, {
          ...query,
          limit: limitOf(query),
          consent: consentFilter(consent),
        });
      },
    );

    app.get(
      '/contacts/:id',
      {
        schema: withErrors({
          tags,
          summary: 'Get a contact',
          params: IdParam,
          querystring: Type.Object(
            {
              deleted: Type.Optional(
                Type.Union([Type.Literal('exclude'), Type.Literal('include')], {
                  default: 'exclude',
                  description: 'include: a soft-deleted contact is answered too (its deleted_at is set)',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          response: { 200: Contact },
        }),
      },
      async (request, reply) => {
        const contact = await contacts.get(
          request.actor,
          { id: request.params.id },
          request.query.deleted === 'include',
        );
        setEtag(reply, contact);
        return contact;
      },
    );

    app.put(
      '/contacts/:id',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Replace a contact',
            params: IdParam,
            body: ContactWrite,
            response: { 200: Contact },
          },
          WRITES,
        ),
      },
      async (request, reply) => {
        const { consent, ...input } = request.body;
        const contact = await contacts.replace(request.actor, { id: request.params.id }, input, {
          expectedVersion: expectedVersion(request, requireIfMatch),
          consent,
        });
        setEtag(reply, contact);
        return contact;
      },
    );

    app.patch(
      '/contacts/:id',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Update a contact (JSON merge patch)',
            params: IdParam,
            body: ContactMergePatch,
            response: { 200: Contact },
          },
          WRITES,
        ),
      },
      async (request, reply) => {
        const { consent, ...patch } = request.body;
        const contact = await contacts.patch(request.actor, { id: request.params.id }, patch, {
          expectedVersion: expectedVersion(request, requireIfMatch),
          consent,
        });
        setEtag(reply, contact);
        return contact;
      },
    );

    app.delete(
      '/contacts/:id',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Delete a contact (soft; permanent=true for admins)',
            params: IdParam,
            querystring: Type.Object(
              { permanent: Type.Optional(Type.Boolean()) },
              { additionalProperties: false },
            ),
            response: { 204: Type.Null() },
          },
          WRITES,
        ),
      },
      async (request, reply) => {
        await contacts.delete(
          request.actor,
          { id: request.params.id },
          { permanent: request.query.permanent, expectedVersion: expectedVersion(request, requireIfMatch) },
        );
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/contacts/:id/restore',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Restore a soft-deleted contact',
            params: IdParam,
            response: { 200: Contact },
          },
          CREATES,
        ),
      },
      async (request, reply) => {
        const contact = await contacts.restore(request.actor, { id: request.params.id });
        setEtag(reply, contact);
        return contact;
      },
    );
  };
