import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../services/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey?: string;
  }
}

/**
 * Idempotency-Key on POST: replays the first response for the same request (see IdempotencyService).
 * Callback hooks, as every request passes them and most need nothing: an async hook costs a promise.
 */
export function idempotency(app: FastifyInstance, services: Services): void {
  app.addHook('preHandler', (request: FastifyRequest, reply, done) => {
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || typeof key !== 'string' || !request.actor) return done();
    services.idempotency
      .begin(request.actor, key, { method: request.method, url: request.url, body: request.body })
      .then((stored) => {
        if (!stored) {
          request.idempotencyKey = key;
          return done();
        }
        reply
          .code(stored.statusCode)
          .header('idempotent-replayed', 'true')
          .type('application/json')
          .send(stored.body);
      }, done);
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!request.idempotencyKey || reply.getHeader('idempotent-replayed')) return done(null, payload);
    services.idempotency
      .finish(request.actor, request.idempotencyKey, { statusCode: reply.statusCode, body: String(payload) })
      .then(() => done(null, payload), done);
  });
}
