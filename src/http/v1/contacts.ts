import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Channel, ConsentStatus } from '../../domain/contact.js';
import { CHANNELS } from '../../domain/contact.js';
import type { Services } from '../../services/index.js';
import { expectedVersion, setEtag } from '../etag.js';
import {
  Contact,
  ContactMergePatch,
  ContactWrite,
  IdParam,
  Limit,
  Page,
  problemResponses,
} from './schemas.js';

export const ContactListQuery = Type.Object(
  {
    limit: Limit,
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    group_id: Type.Optional(Type.String({ format: 'uuid' })),
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
    updated_since: Type.Optional(Type.String({ format: 'date-time' })),
    consent: Type.Optional(
      Type.String({
        pattern: `^(${CHANNELS.join('|')}):(subscribed|unsubscribed)$`,
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

const errors = problemResponses;
const tags = ['Contacts'];

export const contactRoutes =
  (services: Services, requireIfMatch: boolean): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { contacts } = services;

    app.post(
      '/contacts',
      {
        schema: {
          tags,
          summary: 'Create a contact',
          body: ContactWrite,
          response: { 201: Contact, ...errors },
        },
      },
      async (request, reply) => {
        const { consent, ...input } = request.body;
        const contact = await contacts.create(request.actor, input, consent);
        setEtag(reply, contact);
        return reply.code(201).header('location', `/v1/contacts/${contact.id}`).send(contact);
      },
    );

    app.get(
      '/contacts',
      {
        schema: {
          tags,
          summary: 'List contacts (keyset pagination)',
          querystring: ContactListQuery,
          response: { 200: Page(Contact), ...errors },
        },
      },
      async (request) => {
        const { consent, ...query } = request.query;
        return contacts.list(request.actor, { ...query, consent: consentFilter(consent) });
      },
    );

    app.get(
      '/contacts/:id',
      { schema: { tags, summary: 'Get a contact', params: IdParam, response: { 200: Contact, ...errors } } },
      async (request, reply) => {
        const contact = await contacts.get(request.actor, request.params.id);
        setEtag(reply, contact);
        return contact;
      },
    );

    app.put(
      '/contacts/:id',
      {
        schema: {
          tags,
          summary: 'Replace a contact',
          params: IdParam,
          body: ContactWrite,
          response: { 200: Contact, ...errors },
        },
      },
      async (request, reply) => {
        const { consent, ...input } = request.body;
        const contact = await contacts.replace(
          request.actor,
          request.params.id,
          input,
          expectedVersion(request, requireIfMatch),
          consent,
        );
        setEtag(reply, contact);
        return contact;
      },
    );

    app.patch(
      '/contacts/:id',
      {
        schema: {
          tags,
          summary: 'Update a contact (JSON merge patch)',
          params: IdParam,
          body: ContactMergePatch,
          response: { 200: Contact, ...errors },
        },
      },
      async (request, reply) => {
        const { consent, ...patch } = request.body;
        const contact = await contacts.patch(
          request.actor,
          { id: request.params.id },
          patch,
          expectedVersion(request, requireIfMatch),
          consent,
        );
        setEtag(reply, contact);
        return contact;
      },
    );

    app.delete(
      '/contacts/:id',
      {
        schema: {
          tags,
          summary: 'Delete a contact (soft; permanent=true for admins)',
          params: IdParam,
          querystring: Type.Object(
            { permanent: Type.Optional(Type.Boolean()) },
            { additionalProperties: false },
          ),
          response: { 204: Type.Null(), ...errors },
        },
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
        schema: {
          tags,
          summary: 'Restore a soft-deleted contact',
          params: IdParam,
          response: { 200: Contact, ...errors },
        },
      },
      async (request, reply) => {
        const contact = await contacts.restore(request.actor, request.params.id);
        setEtag(reply, contact);
        return contact;
      },
    );
  };
