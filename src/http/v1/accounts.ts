import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../services/index.js';
import { authenticate } from '../auth.js';
import { expectedVersion, setEtag } from '../etag.js';
import { Uuid } from '../openapi.js';
import {
  ApiKey,
  IdParam,
  Limit,
  limitOf,
  Organisation,
  OrganisationPatch,
  Page,
  User,
  UserCreate,
  UserPatch,
  withErrors,
  withPublicErrors,
  WRITES,
  CREATES,
  Credentials,
  Cursor,
} from './schemas.js';

const RefreshToken = Type.String({ minLength: 1, maxLength: 200 });
const Tokens = Type.Object({
  access_token: Type.String({ maxLength: 2000, description: 'A JWT' }),
  refresh_token: RefreshToken,
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ format: 'int32', minimum: 1, maximum: 2 ** 31 - 1 }),
});
const RefreshBody = Type.Object({ refresh_token: RefreshToken }, { additionalProperties: false });
const LogoutBody = Type.Object(
  {
    refresh_token: Type.Optional(RefreshToken),
    everywhere: Type.Optional(
      Type.Boolean({ description: "End every session of the user's, not only this one" }),
    ),
  },
  { additionalProperties: false },
);
/** Token and refresh take no credential: they are how one gets one. */
const security: [] = [];
const OPTIONAL_CREDENTIAL: { [scheme: string]: string[] }[] = [{}, { basic: [] }, { bearer: [] }];

/** Routes that take no credential: they are how one gets a credential. */
export const authRoutes =
  (services: Services): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['Auth'];
    app.post(
      '/auth/token',
      {
        schema: withPublicErrors({
          tags,
          security,
          summary: 'Exchange a username and password for tokens',
          body: Credentials,
          response: { 200: Tokens },
        }),
      },
      async (request) => services.auth.login(request.body.username, request.body.password),
    );
    app.post(
      '/auth/refresh',
      {
        schema: withPublicErrors({
          tags,
          security,
          summary: 'Rotate a refresh token',
          body: RefreshBody,
          response: { 200: Tokens },
        }),
      },
      async (request) => services.auth.refresh(request.body.refresh_token),
    );
    app.post(
      '/auth/logout',
      {
        schema: withPublicErrors({
          tags,
          // The access token is optional: a refresh token names the session too.
          security: OPTIONAL_CREDENTIAL,
          summary: 'End a session: the access token sent and the refresh token given stop working at once',
          body: LogoutBody,
          response: { 204: Type.Null() },
        }),
        // The access token is optional here (a refresh token names the session too), but when one is sent it is checked
        // first, as on every other route: a bad credential is a 401 whatever the body.
        onRequest: async (request) => {
          if (request.headers.authorization) await authenticate(services, request, { surface: 'v1' });
        },
        // Logging out with the access token alone needs no body.
        preValidation: async (request) => {
          request.body ??= {};
        },
      },
      async (request, reply) => {
        const actor = request.headers.authorization ? request.actor : undefined;
        await services.auth.logout(actor, request.body.refresh_token, request.body.everywhere);
        return reply.code(204).send(null);
      },
    );
  };

export const accountRoutes =
  (services: Services, requireIfMatch: boolean): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { accounts } = services;

    app.get(
      '/organisation',
      {
        schema: withErrors({
          tags: ['Organisation'],
          summary: "The caller's organisation",
          response: { 200: Organisation },
        }),
      },
      async (request, reply) => {
        const org = await accounts.getOrganisation(request.actor);
        setEtag(reply, org);
        return org;
      },
    );
    app.patch(
      '/organisation',
      {
        schema: withErrors(
          {
            tags: ['Organisation'],
            summary: 'Update organisation settings (admins)',
            body: OrganisationPatch,
            response: { 200: Organisation },
          },
          WRITES,
        ),
      },
      async (request, reply) => {
        const org = await accounts.updateOrganisation(
          request.actor,
          request.body,
          expectedVersion(request, requireIfMatch),
        );
        setEtag(reply, org);
        return org;
      },
    );

    const userTags = ['Users'];
    app.get(
      '/users',
      {
        schema: withErrors({
          tags: userTags,
          summary: 'List users',
          querystring: Type.Object(
            {
              limit: Limit,
              cursor: Type.Optional(Type.String({ ...Cursor, pattern: '^\\d+$', maxLength: 20 })),
            },
            { additionalProperties: false },
          ),
          response: { 200: Page(User) },
        }),
      },
      async (request) => {
        const page = await accounts.listUsers(
          request.actor,
          limitOf(request.query),
          request.query.cursor ? Number(request.query.cursor) : undefined,
        );
        return { items: page.items, next_cursor: page.next ? String(page.next.key) : null };
      },
    );
    app.post(
      '/users',
      {
        schema: withErrors(
          {
            tags: userTags,
            summary: 'Create a user (admins)',
            body: UserCreate,
            response: { 201: User },
          },
          CREATES,
        ),
      },
      async (request, reply) => {
        const user = await accounts.createUser(request.actor, request.actor.organisationId, request.body);
        setEtag(reply, user);
        return reply.code(201).send(user);
      },
    );
    app.get(
      '/users/:id',
      {
        schema: withErrors({
          tags: userTags,
          summary: 'Get a user',
          params: IdParam,
          response: { 200: User },
        }),
      },
      async (request, reply) => {
        const user = await accounts.getUser(request.actor, request.params.id);
        setEtag(reply, user);
        return user;
      },
    );
    app.patch(
      '/users/:id',
      {
        schema: withErrors(
          {
            tags: userTags,
            summary: 'Update a user (admins; anyone for their own name, email and password)',
            params: IdParam,
            body: UserPatch,
            response: { 200: User },
          },
          WRITES,
        ),
      },
      async (request, reply) => {
        const user = await accounts.updateUser(
          request.actor,
          request.params.id,
          request.body,
          expectedVersion(request, requireIfMatch),
        );
        setEtag(reply, user);
        return user;
      },
    );

    const keyTags = ['API keys'];
    app.get(
      '/api-keys',
      {
        schema: withErrors({
          tags: keyTags,
          summary: 'List API keys (admins)',
          response: { 200: Type.Object({ items: Type.Array(ApiKey) }) },
        }),
      },
      async (request) => ({
        items: await accounts.listApiKeys(request.actor),
      }),
    );
    app.post(
      '/api-keys',
      {
        schema: withErrors(
          {
            tags: keyTags,
            summary: 'Create an API key (admins); the key is in this response only',
            body: Type.Object(
              {
                name: Type.String({ minLength: 1, maxLength: 100 }),
                user_id: Type.Optional(Uuid),
              },
              { additionalProperties: false },
            ),
            response: { 201: ApiKey },
          },
          CREATES,
        ),
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(await accounts.createApiKey(request.actor, request.actor.organisationId, request.body)),
    );
    app.delete(
      '/api-keys/:id',
      {
        schema: withErrors({
          tags: keyTags,
          summary: 'Revoke an API key (admins)',
          params: IdParam,
          response: { 200: ApiKey },
        }),
      },
      async (request) => accounts.revokeApiKey(request.actor, request.params.id),
    );
  };
