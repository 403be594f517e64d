import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RouteOptions,
} from 'fastify';
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { compilersFactory } from './validation.js';

/** Headers of the docs app's answer that describe its own (injected) connection, not ours. */
const OWN_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);
const hidden = { schema: { hide: true } };

/**
 * The OpenAPI document (/openapi.json) and the interactive docs (`prefix`), made the first
 * time either is asked for. @fastify/swagger, swagger-ui, the static files it serves and
 * the YAML writer were ~130 ms of every cold start, for pages few servers are asked for.
 * This server's routes are noted as they are added; the first visit builds an app of its
 * own that declares the same routes (method, path, schema) to @fastify/swagger, and that app
 * answers every docs request. (Shared schemas, `addSchema`, would not be carried over:
 * Roster's routes have none.)
 */
export function servedDocs(
  app: FastifyInstance,
  swagger: FastifyDynamicSwaggerOptions,
  prefix: string,
): void {
  const routes: Pick<RouteOptions, 'method' | 'url' | 'schema' | 'config'>[] = [];
  app.addHook('onRoute', ({ method, url, schema, config }) => {
    // As @fastify/swagger does: HEAD routes and hidden ones are not in the document.
    if (method !== 'HEAD' && !schema?.hide) routes.push({ method, url, schema, config });
  });
  let docs: Promise<FastifyInstance> | undefined;
  const load = async () => {
    const [{ default: fastifySwagger }, { default: swaggerUi }] = await Promise.all([
      import('@fastify/swagger'),
      import('@fastify/swagger-ui'),
    ]);
    // The routes' handlers are never called, so their schemas are never compiled (validation.ts).
    const ui = Fastify({ logger: false, schemaController: { compilersFactory } });
    await ui.register(fastifySwagger, swagger);
    await ui.register(swaggerUi, { routePrefix: prefix });
    for (const route of routes) ui.route({ ...route, handler: async () => undefined });
    await ui.ready();
    return ui;
  };
  // A failed load is tried again by the next visit.
  const docsApp = () =>
    (docs ??= load().catch((error: unknown) => {
      docs = undefined;
      throw error;
    }));

  app.get('/openapi.json', hidden, async () => (await docsApp()).swagger());
  const answer = async (request: FastifyRequest, reply: FastifyReply) => {
    // HEAD is asked as GET: this server's own HEAD handling drops the body and keeps its length.
    const answered = await (
      await docsApp()
    ).inject({ method: 'GET', url: request.url, headers: request.headers });
    // No such page or file: this server's own 404, as for any path it does not serve.
    if (answered.statusCode === 404) return reply.callNotFound();
    for (const [name, value] of Object.entries(answered.headers))
      if (value !== undefined && !OWN_HEADERS.has(name)) reply.header(name, value);
    // A redirect has no body, and no content type for one.
    return reply
      .code(answered.statusCode)
      .send(answered.rawPayload.length > 0 ? answered.rawPayload : undefined);
  };
  app.get(prefix, hidden, answer);
  app.get(`${prefix}/*`, hidden, answer);
}
