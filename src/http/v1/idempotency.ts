import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../services/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey?: string;
  }
}

/** Idempotency-Key on POST: replays the first response for the same request (see IdempotencyService). */
export function idempotency(app: FastifyInstance, services: Services): void {
  app.addHook('preHandler', async (request: FastifyRequest, reply) => {
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || typeof key !== 'string' || !request.actor) return;
    const stored = await services.idempotency.begin(request.actor, key, {
      method: request.method,
      url: request.url,
      body: request.body,
    });
    if (stored)
      return reply
        .code(stored.statusCode)
        .header('idempotent-replayed', 'true')
        .type('application/json')
        .send(stored.body);
    request.idempotencyKey = key;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.idempotencyKey || reply.getHeader('idempotent-replayed')) return payload;
    await services.idempotency.finish(request.actor, request.idempotencyKey, {
      statusCode: reply.statusCode,
      body: String(payload),
    });
    return payload;
  });
}
