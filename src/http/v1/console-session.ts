import cookie from '@fastify/cookie';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../domain/errors.js';
import type { TokenPair } from '../../services/auth.js';
import type { Services } from '../../services/index.js';
import { Credentials, withSessionErrors } from './schemas.js';

/** The refresh token's cookie: sent back only to these routes, never readable by the page's scripts. */
export const SESSION_COOKIE = 'roster_session';
const COOKIE_PATH = '/v1/console/session';
/** A header a cross-site form or image cannot send, and a cross-site script only after a preflight that fails. */
export const CSRF_HEADER = 'x-roster-console';

const AccessToken = Type.Object({
  access_token: Type.String({ maxLength: 2000, description: 'A JWT, to keep in memory only' }),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ format: 'int32', minimum: 1, maximum: 2 ** 31 - 1 }),
});
const CsrfHeaders = Type.Object({
  [CSRF_HEADER]: Type.Literal('1', { description: 'Required (CSRF protection): the console sends 1' }),
});

/**
 * Cross-site requests are refused: the custom header must be there (a form cannot send it), and an Origin,
 * when the browser sends one, must be this server's own.
 */
async function sameOrigin(request: FastifyRequest): Promise<void> {
  const origin = request.headers.origin;
  const own = `${request.protocol}://${request.host}`;
  if (request.headers[CSRF_HEADER] !== '1' || (origin !== undefined && origin !== own))
    throw new DomainError('forbidden', 'This endpoint serves the console of this server only');
}

const cookieOptions = (request: FastifyRequest) => ({
  httpOnly: true,
  sameSite: 'strict' as const,
  secure: request.protocol === 'https',
  path: COOKIE_PATH,
});

function keepRefreshToken(request: FastifyRequest, reply: FastifyReply, tokens: TokenPair, maxAge: number) {
  reply.setCookie(SESSION_COOKIE, tokens.refresh_token, { ...cookieOptions(request), maxAge });
  return { access_token: tokens.access_token, token_type: tokens.token_type, expires_in: tokens.expires_in };
}

/**
 * The console's session: the refresh token lives in an HttpOnly, SameSite=Strict cookie, the access token in
 * the page's memory. The same auth service as /v1/auth (password check and its throttle, rotation, logout).
 */
export const consoleSessionRoutes =
  (services: Services): FastifyPluginAsyncTypebox =>
  async (app) => {
    await app.register(cookie);
    app.addHook('onRequest', sameOrigin);
    const tags = ['Auth'];
    const security: [] = [];
    const refreshToken = (request: FastifyRequest) => {
      const value = request.cookies[SESSION_COOKIE];
      if (!value) throw new DomainError('unauthenticated', 'No console session: sign in');
      return value;
    };
    app.post(
      '/console/session',
      {
        schema: withSessionErrors({
          tags,
          security,
          summary: 'Sign in to the console: the refresh token is set as an HttpOnly cookie, not returned',
          headers: CsrfHeaders,
          body: Credentials,
          response: { 200: AccessToken },
        }),
      },
      async (request, reply) =>
        keepRefreshToken(
          request,
          reply,
          await services.auth.login(request.body.username, request.body.password),
          services.auth.refreshTokenTtlSeconds,
        ),
    );
    app.post(
      '/console/session/refresh',
      {
        schema: withSessionErrors({
          tags,
          security,
          summary: "A new access token for the console's session cookie (which is rotated)",
          headers: CsrfHeaders,
          response: { 200: AccessToken },
        }),
      },
      async (request, reply) =>
        keepRefreshToken(
          request,
          reply,
          await services.auth.refresh(refreshToken(request)),
          services.auth.refreshTokenTtlSeconds,
        ),
    );
    app.delete(
      '/console/session',
      {
        schema: withSessionErrors({
          tags,
          security,
          summary: 'Sign out of the console: its session ends and the cookie is cleared',
          headers: CsrfHeaders,
          response: { 204: Type.Null() },
        }),
      },
      async (request, reply) => {
        const value = request.cookies[SESSION_COOKIE];
        reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
        // A session already over (expired cookie, revoked elsewhere) is simply signed out.
        if (value)
          await services.auth.logout(undefined, value).catch((error: unknown) => {
            if (!(error instanceof DomainError)) throw error;
          });
        return reply.code(204).send(null);
      },
    );
  };
