import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { SERVER_LIMITS } from '../config.js';
import type { Services } from '../services/index.js';
import { urlForLog } from './auth.js';
import { webConsole } from './console.js';
import { servedDocs } from './docs.js';
import { describeRoute } from './openapi.js';
import { seedApis } from './seeds/index.js';
import { unknownPaths } from './unknown-paths.js';
import { v1 } from './v1/index.js';
import { problemHandler } from './v1/problem.js';
import type { Metrics } from './metrics.js';
import { compilersFactory, refuseNul } from './validation.js';

export { Metrics } from './metrics.js';

export interface AppOptions {
  logLevel?: string;
  /** Where log lines go: standard output unless given (tests capture them). */
  logStream?: NodeJS.WritableStream;
  bodyLimitBytes?: number;
  requireIfMatch?: boolean;
  /** Node's limit on a request's headers, in all; 431 above it. */
  maxHeaderBytes?: number;
  /** Time to receive a whole request, headers and body (408 after it). */
  requestTimeoutMs?: number;
  /** How long a kept-alive connection waits for its next request. */
  keepAliveTimeoutMs?: number;
  /** Items in one answer of a seed list that has no pagination. */
  seedListMax?: number;
  /** True once the server is stopping: /readyz answers 503 so a load balancer sends no more. */
  draining?: () => boolean;
  /** Prometheus metrics (GET /metrics behind a token, request timings); none when not given. */
  metrics?: Metrics;
}

/** Headers and fields whose values are credentials: never written to the log. */
const REDACT = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-refresh"]'];

/** Fastify's own account of a request, but a credential sent in its query string (refused with 401) is not written down. */
function requestForLog(request: FastifyRequest) {
  return {
    method: request.method,
    url: urlForLog(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
/** The document describes the server that serves it, wherever that runs; it is public. */
const THIS_SERVER = {
  url: '/',
  description: 'The server that serves this document (production, staging or local alike)',
  'x-internal': false,
};

/** Builds the HTTP application: the canonical /v1 API, the seed-compatible surfaces, docs and health checks. */
export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const requestTimeoutMs = options.requestTimeoutMs ?? SERVER_LIMITS.requestTimeoutMs;
  const app = Fastify({
    logger: {
      level: options.logLevel ?? 'info',
      redact: REDACT,
      serializers: { req: requestForLog },
      ...(options.logStream && { stream: options.logStream }),
    },
    http: {
      maxHeaderSize: options.maxHeaderBytes ?? SERVER_LIMITS.maxHeaderBytes,
      // Node looks for requests past their time-out this often; 30 s by default, later than the time-out itself.
      connectionsCheckingInterval: Math.min(30_000, requestTimeoutMs),
    },
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? SERVER_LIMITS.keepAliveTimeoutMs,
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
    },
    // Path parameters are checked by each route's schema, in its surface's error style; the router's
    // own limit (a bare 414) only stops what no schema would take: 100 characters, percent-encoded.
    routerOptions: { maxParamLength: 1200 },
    schemaController: { compilersFactory },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // The routes of no surface (health checks, docs) answer errors as /v1 does.
  app.setErrorHandler(problemHandler);
  app.addHook('preValidation', refuseNul);
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    if (request.rateLimit) {
      const { limit, remaining, reset } = request.rateLimit;
      reply
        .header('ratelimit-limit', limit)
        .header('ratelimit-remaining', Math.max(0, remaining))
        .header('ratelimit-reset', reset);
      if (reply.statusCode === 429) reply.header('retry-after', reset);
    }
    done(null, payload);
  });

  servedDocs(
    app,
    {
      transform: describeRoute,
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Roster',
          version: '0.1.0',
          description:
            'Contacts, groups and memberships for messaging platforms. See the README for a walk-through.',
          contact: { name: 'The operator of this Roster server' },
          license: { name: 'MIT', identifier: 'MIT' },
        },
        servers: [THIS_SERVER],
        tags: [
          { name: 'Auth', description: 'Tokens for a username and password; refresh and logout' },
          { name: 'Contacts', description: "The organisation's contacts" },
          { name: 'Groups', description: 'Groups of contacts and their members' },
          { name: 'Organisation', description: "The caller's organisation and its settings" },
          { name: 'Users', description: "The organisation's users and their roles" },
          { name: 'API keys', description: 'Keys for machine clients' },
          { name: 'Imports and exports', description: 'Contacts from and to CSV, vCard and JSON Lines' },
          {
            name: 'Duplicates and merges',
            description: 'Candidate duplicate contacts, merging them into one, and undoing a merge',
          },
          { name: 'Changes', description: 'Every change in commit order, and the history of a record' },
          { name: 'Webhooks', description: 'Signed deliveries of changes to your endpoints' },
          { name: 'Seed 000: organisation contact groups', description: 'Compatibility surface' },
          { name: 'Seed 001: messaging contacts', description: 'Compatibility surface' },
          { name: 'Seed 002: unified-communications contact groups', description: 'Compatibility surface' },
          { name: 'Seed 003: SMS address book', description: 'Compatibility surface' },
        ],
        components: {
          securitySchemes: {
            basic: { type: 'http', scheme: 'basic' },
            bearer: {
              type: 'http',
              scheme: 'bearer',
              description: 'A JWT from POST /v1/auth/token, or an API key',
            },
          },
        },
        security: [{ basic: [] }, { bearer: [] }],
      },
    },
    '/docs',
  );
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    if (options.draining?.()) return reply.code(503).send({ status: 'draining' });
    try {
      await services.store.ping();
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'unavailable' });
    }
  });

  options.metrics?.register(app);

  const v1Prefix = '/v1';
  await app.register(v1(services, { requireIfMatch: options.requireIfMatch ?? false }), { prefix: v1Prefix });
  await app.register(webConsole());
  const seedLimits = { listMax: options.seedListMax ?? SERVER_LIMITS.seedListMax };
  for (const seed of seedApis) await app.register(seed.routes(services, seedLimits));
  await app.register(
    unknownPaths([{ prefixes: [v1Prefix], errors: problemHandler }, ...seedApis], problemHandler),
  );
  return app;
}
