import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services/index.js';
import { authenticate } from '../auth.js';
import { accountRoutes, authRoutes } from './accounts.js';
import { changeRoutes } from './changes.js';
import { consoleSessionRoutes } from './console-session.js';
import { contactRoutes } from './contacts.js';
import { groupRoutes } from './groups.js';
import { idempotency } from './idempotency.js';
import { importRoutes } from './imports.js';
import { mergeRoutes } from './merges.js';
import { problemHandler } from './problem.js';
import { webhookRoutes } from './webhooks.js';

/** The canonical API, mounted at /v1. */
export const v1 =
  (services: Services, options: { requireIfMatch: boolean }): FastifyPluginAsync =>
  async (app) => {
    app.setErrorHandler(problemHandler);
    app.addContentTypeParser(
      'application/merge-patch+json',
      { parseAs: 'string' },
      app.getDefaultJsonParser('error', 'error'),
    );
    await app.register(authRoutes(services));
    await app.register(consoleSessionRoutes(services));
    await app.register(async (authenticated) => {
      authenticated.addHook('onRequest', async (request) => {
        await authenticate(services, request, { surface: 'v1' });
      });
      idempotency(authenticated, services);
      await authenticated.register(contactRoutes(services, options.requireIfMatch));
      await authenticated.register(groupRoutes(services, options.requireIfMatch));
      await authenticated.register(accountRoutes(services, options.requireIfMatch));
      await authenticated.register(importRoutes(services));
      await authenticated.register(mergeRoutes(services, options.requireIfMatch));
      await authenticated.register(changeRoutes(services));
      await authenticated.register(webhookRoutes(services, options.requireIfMatch));
    });
  };
