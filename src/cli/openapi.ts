import { openStore } from '../db/store.js';
import { buildApp } from '../http/app.js';
import { createServices } from '../services/index.js';

/**
 * The OpenAPI document the server serves at /openapi.json, built from the route schemas
 * on a throwaway in-memory database, so it can be written and linted without a server.
 */
export async function openApiDocument(): Promise<string> {
  const store = openStore({ url: 'sqlite::memory:' });
  await store.migrate();
  const services = await createServices(store, {
    jwtSecret: 'unused: the document is built, no request is served',
    accessTokenTtlSeconds: 900,
    refreshTokenTtlSeconds: 3600,
  });
  const app = await buildApp(services, { logLevel: 'silent' });
  try {
    const document = await app.inject({ method: 'GET', url: '/openapi.json' });
    return JSON.stringify(document.json(), null, 2) + '\n';
  } finally {
    await app.close();
    await services.rateLimiter.close();
    await store.close();
  }
}
