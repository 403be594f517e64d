import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CHANGE_TYPES } from '../../domain/changes.js';
import type { Services } from '../../services/index.js';
import { expectedVersion } from '../etag.js';
import { Count, Nullable, Text, Timestamp, Uuid, Version } from '../openapi.js';
import { CREATES, Cursor, IdParam, Limit, limitOf, Page, withErrors, WRITES } from './schemas.js';

const Id = Type.String({ ...Uuid, description: 'A UUID' });
const Url = Type.String({
  maxLength: 2000,
  description: 'http(s); not a loopback, private or metadata address',
});
const Events = Type.Array(Text(40), {
  minItems: 1,
  maxItems: CHANGE_TYPES.length + 1,
  description: `Change types to send (${CHANGE_TYPES.join(', ')}), or ["*"] for all`,
});

const Endpoint = Type.Object(
  {
    id: Id,
    url: Url,
    description: Nullable(Text(500)),
    events: Events,
    enabled: Type.Boolean(),
    disabled_reason: Nullable(Text(1000, 'Why deliveries stopped, when they did')),
    previous_secret_expires_at: Nullable({
      ...Timestamp,
      description: 'Until when the rotated-out secret signs too',
    }),
    created_at: Timestamp,
    updated_at: Timestamp,
    version: Version,
  },
  { $id: 'WebhookEndpoint' },
);
const WithSecret = Type.Object(
  {
    ...Endpoint.properties,
    secret: Text(100, 'whsec_ and base64: the signing secret, shown this once'),
  },
  { $id: 'WebhookEndpointWithSecret' },
);
const EndpointWrite = Type.Object(
  { url: Url, events: Events, description: Type.Optional(Nullable(Text(500))) },
  { additionalProperties: false },
);
const EndpointPatch = Type.Partial(
  Type.Object({ url: Url, events: Events, description: Nullable(Text(500)), enabled: Type.Boolean() }),
  { additionalProperties: false },
);
const Delivery = Type.Object(
  {
    id: { ...Id, description: 'Also the webhook-id header, the same on every attempt' },
    type: Text(40),
    seq: Nullable({ ...Count, description: 'The change delivered (null for a test event)' }),
    status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
    attempts: Type.Integer({ format: 'int32', minimum: 0, maximum: 1000 }),
    last_status: Nullable(
      Type.Integer({
        format: 'int32',
        minimum: 0,
        maximum: 999,
        description: "The receiver's last HTTP status",
      }),
    ),
    last_error: Nullable(Text(500, 'Why the last attempt failed without an answer')),
    response_excerpt: Nullable(Text(1024, 'The start of the receiver’s last answer')),
    next_attempt_at: Nullable(Timestamp),
    created_at: Timestamp,
    finished_at: Nullable(Timestamp),
  },
  { $id: 'WebhookDelivery' },
);
const DeliveryParams = Type.Object({ id: Id, delivery_id: Id });

const tags = ['Webhooks'];

/** Webhook endpoints, their secrets and deliveries (admins and owners; docs/changes.md). */
export const webhookRoutes =
  (services: Services, requireIfMatch: boolean): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { webhooks } = services;
    app.post(
      '/webhooks',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Add an endpoint; its signing secret is in this response only',
            body: EndpointWrite,
            response: { 201: WithSecret },
          },
          CREATES,
        ),
      },
      async (request, reply) => {
        const endpoint = await webhooks.create(request.actor, request.body);
        return reply.code(201).header('location', `/v1/webhooks/${endpoint.id}`).send(endpoint);
      },
    );
    app.get(
      '/webhooks',
      {
        schema: withErrors({
          tags,
          summary: 'List the endpoints',
          response: { 200: Type.Object({ items: Type.Array(Endpoint, { maxItems: 1000 }) }) },
        }),
      },
      async (request) => ({ items: await webhooks.list(request.actor) }),
    );
    app.get(
      '/webhooks/:id',
      {
        schema: withErrors({
          tags,
          summary: 'Get an endpoint',
          params: IdParam,
          response: { 200: Endpoint },
        }),
      },
      async (request) => webhooks.get(request.actor, request.params.id),
    );
    app.patch(
      '/webhooks/:id',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Change the URL, the events, or whether it is enabled (enabling clears disabled_reason)',
            params: IdParam,
            body: EndpointPatch,
            response: { 200: Endpoint },
          },
          WRITES,
        ),
      },
      async (request) =>
        webhooks.update(
          request.actor,
          request.params.id,
          request.body,
          expectedVersion(request, requireIfMatch),
        ),
    );
    app.delete(
      '/webhooks/:id',
      {
        schema: withErrors({
          tags,
          summary: 'Remove an endpoint and its deliveries',
          params: IdParam,
          response: { 204: Type.Null() },
        }),
      },
      async (request, reply) => {
        await webhooks.delete(request.actor, request.params.id);
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/webhooks/:id/rotate',
      {
        schema: withErrors(
          {
            tags,
            summary: 'A new signing secret (shown once); the old one still signs beside it for 24 hours',
            params: IdParam,
            response: { 200: WithSecret },
          },
          CREATES,
        ),
      },
      async (request) => webhooks.rotate(request.actor, request.params.id),
    );
    app.post(
      '/webhooks/:id/test',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Queue a webhook.test event to the endpoint',
            params: IdParam,
            response: { 202: Delivery },
          },
          CREATES,
        ),
      },
      async (request, reply) => reply.code(202).send(await webhooks.test(request.actor, request.params.id)),
    );
    app.get(
      '/webhooks/:id/deliveries',
      {
        schema: withErrors({
          tags,
          summary: "The endpoint's deliveries, newest first",
          params: IdParam,
          querystring: Type.Object(
            { limit: Limit, cursor: Type.Optional(Cursor) },
            { additionalProperties: false },
          ),
          response: { 200: Page(Delivery) },
        }),
      },
      async (request) =>
        webhooks.deliveries(request.actor, request.params.id, {
          cursor: request.query.cursor,
          limit: limitOf(request.query),
        }),
    );
    app.post(
      '/webhooks/:id/deliveries/:delivery_id/redeliver',
      {
        schema: withErrors(
          {
            tags,
            summary: 'Send a delivery again from its first attempt',
            params: DeliveryParams,
            response: { 202: Delivery },
          },
          CREATES,
        ),
      },
      async (request, reply) =>
        reply
          .code(202)
          .send(await webhooks.redeliver(request.actor, request.params.id, request.params.delivery_id)),
    );
  };
