import type { FastifyRequest } from 'fastify';
import type { Surface } from '../domain/changes.js';
import { DomainError } from '../domain/errors.js';
import type { Actor } from '../services/context.js';
import type { RateState } from '../services/rate-limit.js';
import type { Services } from '../services/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
    rateLimit?: RateState;
  }
}

export type Presented =
  { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; token: string };

const missing = () =>
  new DomainError('unauthenticated', 'Authentication credentials were not provided', { missing: true });

/** The credential in the Authorization header, if any. */
function presentedCredential(request: FastifyRequest): Presented | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const [scheme, value = ''] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer' && value) return { kind: 'bearer', token: value.trim() };
  if (scheme?.toLowerCase() === 'basic' && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    // A NUL is in no username or password, and PostgreSQL cannot even look one up.
    if (colon > 0 && !decoded.includes('\0'))
      return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  throw new DomainError('unauthenticated', 'The Authorization header is malformed');
}

/** Query strings end up in logs, proxies and browser history: a credential there is refused, not used. */
const QUERY_CREDENTIALS = ['access_token', 'api_key', 'apikey', 'token', 'password'];

const CREDENTIAL_IN_QUERY = new RegExp(`([?&](?:${QUERY_CREDENTIALS.join('|')})=)[^&#]*`, 'gi');

/** A URL fit for a log line: the value of any credential in its query string is blanked. */
export const urlForLog = (url: string) => url.replace(CREDENTIAL_IN_QUERY, '$1[Redacted]');

function refuseQueryCredentials(request: FastifyRequest): void {
  const query = request.query as Record<string, unknown> | undefined;
  if (query && QUERY_CREDENTIALS.some((name) => name in query)) {
    throw new DomainError(
      'unauthenticated',
      'Credentials in the query string are refused; send them in the Authorization header',
    );
  }
}

export interface AuthenticateOptions {
  /** The surface the request came through: the actor's changes are logged under its name. */
  surface: Surface;
  /** A token sent elsewhere than the Authorization header, used when there is none. */
  fallback?: Presented;
  /** A token the surface has just renewed, used instead of the one sent. */
  override?: Presented;
}

/** Resolves a request's credential to an Actor of the surface it came through. */
export async function authenticate(
  services: Services,
  request: FastifyRequest,
  { surface, fallback, override }: AuthenticateOptions,
): Promise<Actor> {
  refuseQueryCredentials(request);
  const presented = override ?? presentedCredential(request) ?? fallback;
  if (!presented) throw missing();
  const checked =
    presented.kind === 'basic'
      ? await services.auth.verifyBasic(presented.username, presented.password)
      : await services.auth.verifyBearer(presented.token);
  const actor: Actor = { ...checked, surface };
  request.actor = actor;
  request.rateLimit = await services.rateLimiter.hit(actor);
  if (request.rateLimit && request.rateLimit.remaining < 0) {
    throw new DomainError('rate_limited', 'Too many requests for this credential; slow down', {
      retry_after: request.rateLimit.reset,
    });
  }
  return actor;
}
